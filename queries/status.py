"""What is published: the read side of `pulse status`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from queries.datadir import DataDir
from queries.lake import lake_location
from queries.reference import STREAMS
from queries.runlog import last_outcomes
from queries.schedule import schedule_interval, serving
from queries.settings import Settings
from queries.warehouse import published, published_snapshot_id


def snapshot_status(d: DataDir, settings: Settings) -> dict[str, Any]:
    """Rows per stream, campaign-day range, last refresh and quarantine totals."""
    snapshot = published_snapshot_id(d)
    status: dict[str, Any] = {
        "data_dir": str(d.root),
        "warehouse": lake_location(settings, d).catalog if snapshot else None,
        "snapshot_id": snapshot,
    }
    status.update(run_status(d))
    if snapshot is None:
        return status
    with published(d) as con:
        streams = {}
        for stream in STREAMS:
            rows, first, last = con.sql(
                f"select count(*), timezone($tz, min(event_at))::date, timezone($tz, max(event_at))::date "
                f"from {stream}_events",
                params={"tz": settings.timezone},
            ).fetchall()[0]
            quarantined = con.sql(
                "select count(*) from quarantine_rows where stream = $s", params={"s": stream}
            ).fetchall()[0][0]
            streams[stream] = {
                "rows": rows,
                "first_day": _iso(first),
                "last_day": _iso(last),
                "quarantined": quarantined,
            }
        last_refresh, runs = con.sql("select max(finished_at), count(*) from refresh_runs").fetchall()[0]
        files, unreadable = con.sql(
            "select count(*), count(*) filter (where status = 'unreadable') from file_ledger"
        ).fetchall()[0]
    status.update(
        {
            "streams": streams,
            "first_day": min((s["first_day"] for s in streams.values() if s["first_day"]), default=None),
            "last_day": max((s["last_day"] for s in streams.values() if s["last_day"]), default=None),
            "last_refresh": _iso(last_refresh),
            "refreshes_published": runs,
            "files_processed": files,
            "quarantine": {
                "rows": sum(s["quarantined"] for s in streams.values()),
                "unreadable_files": unreadable,
            },
        }
    )
    return status


def run_status(d: DataDir, now: dt.datetime | None = None) -> dict[str, Any]:
    """Outcomes of refreshes (runs.jsonl) and the schedule a running `pulse serve` serves."""
    success, failure = last_outcomes(d)
    served = serving(d)
    return {
        "last_success": _iso(success.at) if success else None,
        "last_failure": {"at": _iso(failure.at), "reason": failure.reason} if failure else None,
        "next_run": _iso(served.next_run(now)) if served else None,
        "schedule": (
            {
                "cron": served.cron,
                "interval_seconds": served.interval_seconds,
                "timezone": served.timezone,
                "pid": served.pid,
                "prefect_api_url": served.api_url,
                "prefect_ui_url": served.ui_url,
                "deployment": served.deployment,
            }
            if served
            else None
        ),
    }


def last_refresh(d: DataDir) -> tuple[str, dt.datetime] | None:
    """(snapshot id, when it was published) for the freshness banner: one tiny query."""
    snapshot = published_snapshot_id(d)
    if snapshot is None:
        return None
    with published(d) as con:
        (finished,) = con.sql("select max(finished_at) from refresh_runs").fetchall()[0]
    return snapshot, finished


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Freshness:
    snapshot_id: str
    last_success: dt.datetime  # the later of the last publish and the last successful run
    age: dt.timedelta
    limit: dt.timedelta  # two scheduled intervals
    failure_at: dt.datetime | None  # the last failure, when it came after the last success
    failure_reason: str | None

    @property
    def is_stale(self) -> bool:
        return self.age > self.limit


def freshness(d: DataDir, settings: Settings, now: dt.datetime | None = None) -> Freshness | None:
    """How old the data is for the banner: stale when the last success is older than two
    intervals of the schedule being served (else `schedule.cron`); None before the first publish."""
    published = last_refresh(d)
    if published is None:
        return None
    snapshot, finished = published
    success, failure = last_outcomes(d)
    last_ok = max(finished, success.at) if success else finished
    late_failure = failure if failure and failure.at > last_ok else None
    return Freshness(
        snapshot_id=snapshot,
        last_success=last_ok,
        age=(now or dt.datetime.now(dt.UTC)) - last_ok,
        limit=2 * schedule_interval(d, settings),
        failure_at=late_failure.at if late_failure else None,
        failure_reason=late_failure.reason if late_failure else None,
    )
