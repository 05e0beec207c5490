"""The schedule `pulse serve` is serving, read from `DATA_DIR/serve.json` (written by
`pipelines.serve` while it runs): when the next run is due and how long an interval is."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

from core.datadir import PREFECT_DEFAULTS, DataDir
from core.settings import Settings


@dataclass(frozen=True)
class ServeState:
    pid: int
    timezone: str
    cron: str | None  # either a cron expression (in `timezone`) ...
    interval_seconds: float | None  # ... or a fixed interval from `anchor`
    anchor: str  # ISO-8601, when serving started
    api_url: str
    ui_url: str | None  # None when the Prefect server is not ours (PREFECT_API_URL)
    deployment: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def next_run(self, now: dt.datetime | None = None) -> dt.datetime:
        now = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(self.timezone))
        if self.cron is not None:
            return next(CronSim(self.cron, now.replace(microsecond=0))).astimezone(dt.UTC)
        anchor = dt.datetime.fromisoformat(self.anchor)
        step = dt.timedelta(seconds=self.interval_seconds or 0)
        passed = max(0, int((now - anchor) / step) + 1)
        return (anchor + passed * step).astimezone(dt.UTC)

    def interval(self) -> dt.timedelta:
        if self.cron is None:
            return dt.timedelta(seconds=self.interval_seconds or 0)
        return cron_interval(self.cron, ZoneInfo(self.timezone))


def cron_interval(cron: str, tz: dt.tzinfo) -> dt.timedelta:
    """The time between the next two firings of `cron` (an hourly schedule: one hour)."""
    it = CronSim(cron, dt.datetime.now(tz).replace(microsecond=0))
    first = next(it)
    return next(it) - first


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serving(d: DataDir) -> ServeState | None:
    """The schedule being served for this data dir, or None (not running, or it died)."""
    try:
        raw = json.loads(d.serve_state.read_text(encoding="utf-8"))
        state = ServeState(**raw)
    except (FileNotFoundError, ValueError, TypeError):
        return None
    return state if _alive(state.pid) else None


def schedule_interval(d: DataDir, settings: Settings) -> dt.timedelta:
    """The interval being served, else the one `schedule.cron` asks for."""
    state = serving(d)
    return state.interval() if state else cron_interval(settings.schedule.cron, settings.tz)


def isolate_prefect(d: DataDir) -> None:
    """Point Prefect's local state at this data dir, and keep it quiet and offline; use the
    Prefect server of a `pulse serve` running on this data dir if there is one.
    Call before prefect is imported; settings the user exported win, but PREFECT_HOME."""
    os.environ["PREFECT_HOME"] = str(d.prefect_home)
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # a running `pulse serve`'s server: its UI shows this run too
    if "PREFECT_API_URL" not in os.environ and (state := serving(d)) is not None:
        os.environ["PREFECT_API_URL"] = state.api_url
