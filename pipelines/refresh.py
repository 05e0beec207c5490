"""The refresh, one function (`refresh`) that the Prefect flow wraps and every test and benchmark
calls. Its stages, one module each: pipelines/discover.py (which landing files are new) ->
read.py (a file as text, chunk by chunk) -> validate.py (CONTRACT §2, in SQL) -> stage.py (rows,
quarantine, ledger, marts.py, releases, alerts into one open lake transaction) -> publish.py
(the ledger checked, then committed).

All or nothing: rows, quarantine, the file ledger, marts, partner releases, alert incidents and
the run record are written in one DuckLake transaction (core/lake.py), which becomes the
lake's next snapshot only when publish commits it, after the ledger was checked inside it.
A refresh that dies at any point leaves the lake as it was (the Parquet files it had written
are orphans, removed by housekeeping); the next one gets the same result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings
from pipelines import notify, outcomes
from pipelines.discover import DEFAULT_SETTLE_SECONDS, discover_new_files
from pipelines.lake_write import RefreshBusy, fault_point, writer_lock
from pipelines.migrate import migrate_if_needed
from pipelines.publish import publish
from pipelines.stage import Spread, Staged, StreamCounts, stage
from pipelines.stage_file import remove_staging


@dataclass
class RefreshResult:
    snapshot_id: str | None
    published: bool
    streams: dict[str, StreamCounts]
    files: dict[str, Any]
    unknown_columns: list[dict[str, Any]]
    timings: dict[str, float]

    @classmethod
    def from_staged(cls, staged: Staged, snapshot_id: str | None) -> RefreshResult:
        new = [f for f in staged.files if f.status == "loaded"]
        return cls(
            snapshot_id=snapshot_id,
            published=staged.lake is not None or staged.lake_snapshot is not None,
            streams=staged.streams,
            files={
                "new": len(new),
                "skipped_seen": len(staged.seen) + sum(f.status == "duplicate_file" for f in staged.files),
                "unreadable": [{"path": f.rel, "reason": f.reason} for f in staged.files if f.status == "unreadable"],
                "waiting": staged.waiting,
                "skipped": staged.skipped,
            },
            unknown_columns=[{"path": f.rel, "columns": f.unknown_columns} for f in new if f.unknown_columns],
            timings={k: round(v, 3) for k, v in staged.timings.items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "published": self.published,
            **{s: c.to_json() for s, c in self.streams.items()},
            "files": self.files,
            "unknown_columns": self.unknown_columns,
            "timings": self.timings,
        }


def load(
    settings: Settings,
    d: DataDir,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    now: dt.datetime | None = None,
    spread: Spread | None = None,
) -> RefreshResult:
    """Discover, stage and commit, as one step (call it with the refresh lock held): a retry
    after a failed commit discovers and stages again (a rolled-back transaction cannot be
    committed later, and what the ledger holds may have changed). With `spread`, the files are
    staged by stage workers first (pipelines/flows.py); this process is the one committer."""
    plan = discover_new_files(d, settle_seconds, settings)
    fault_point("after_discover")
    staged = stage(settings, d, plan, now, spread)
    try:
        return RefreshResult.from_staged(staged, publish(d, staged))
    finally:
        if staged.staging is not None:
            remove_staging(staged.staging)


def refresh(
    settings: Settings,
    d: DataDir,
    *,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    wait_seconds: float = 0,
    now: dt.datetime | None = None,
    trigger: str = "manual",
    load_step: Callable[..., RefreshResult] = load,
) -> RefreshResult:
    """The refresh, whole: take the lock, migrate a release 1 data dir once, discover, stage and
    commit (`load_step`: `load`, or the Prefect task around it that retries), then record the
    outcome in DATA_DIR/runs.jsonl and tell the alert channels (pipelines/notify.py). The
    Prefect flow (pipelines/flows.py), the tests and the benchmarks all call this.

    Raises RefreshBusy when another refresh holds the lock (recorded as skipped), PulseError
    for an environmental error (TransientError when a later attempt may succeed; recorded as
    a failure), and any other exception as it is: a bug keeps its traceback."""
    try:
        lock = writer_lock(settings, d, wait_seconds)
        try:
            fault_point("after_lock")
            migrate_if_needed(settings, d)  # release 1's data dir: its ledger first, so no file is read again
            result = load_step(settings, d, settle_seconds, now)
        finally:
            lock.release()
    except RefreshBusy as e:
        outcomes.record(d, "skipped", trigger, str(e))
        raise
    except Exception as e:
        reason = outcomes.one_line(e)
        outcomes.record(d, "failure", trigger, reason)
        notify.after_refresh(settings, d, failure=reason)
        if outcomes.is_transient(e):
            raise outcomes.TransientError(reason) from e
        if outcomes.is_environmental(e) and not isinstance(e, PulseError):
            raise PulseError(reason) from e
        raise
    outcomes.record(d, "success", trigger, result=result.to_json())
    notify.after_refresh(settings, d)  # alerts: after the publish, never blocking it
    return result
