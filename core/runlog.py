"""Refresh outcomes, kept outside the snapshots (a failed run publishes nothing): the read side.

`DATA_DIR/runs.jsonl` holds one JSON object a line, appended by `pipelines.outcomes`:
`{"at": ISO-8601 UTC, "outcome": "success" | "failure" | "skipped", "trigger": "manual" |
"schedule", "reason": one line or null, "snapshot_id": …, "published": bool, "streams": {…}}`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from core.datadir import DataDir

OUTCOMES = ("success", "failure", "skipped")


@dataclass(frozen=True)
class RunOutcome:
    at: dt.datetime
    outcome: str
    trigger: str
    reason: str | None
    snapshot_id: str | None
    published: bool
    streams: dict[str, Any] | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RunOutcome:
        return cls(
            at=dt.datetime.fromisoformat(raw["at"]),
            outcome=raw["outcome"],
            trigger=raw.get("trigger", "manual"),
            reason=raw.get("reason"),
            snapshot_id=raw.get("snapshot_id"),
            published=bool(raw.get("published")),
            streams=raw.get("streams"),
        )


def read_outcomes(d: DataDir) -> list[RunOutcome]:
    """Every recorded outcome, oldest first. A torn last line (a run killed while writing) is skipped."""
    try:
        text = d.runs_log.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append(RunOutcome.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def last_outcomes(d: DataDir) -> tuple[RunOutcome | None, RunOutcome | None]:
    """(last success, last failure); either may be None."""
    success = failure = None
    for o in read_outcomes(d):
        if o.outcome == "success":
            success = o
        elif o.outcome == "failure":
            failure = o
    return success, failure
