"""What is published: the read side of `pulse status` (and `--at TIME`: what was published then,
from the lake's snapshot of that time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import connect_lake, lake_location, latest_snapshot_id
from core.reference import STREAMS
from core.runlog import last_outcomes
from core.schedule import schedule_interval, serving
from core.settings import Settings
from queries.warehouse import published, published_snapshot_id


class NotPublishedThen(PulseError):
    """`pulse status --at`: nothing was published at that time, or its snapshot is expired."""


def snapshot_status(d: DataDir, settings: Settings, at: dt.datetime | None = None) -> dict[str, Any]:
    """Rows per stream, campaign-day range, last refresh and quarantine totals: of the published
    snapshot, or with `at` of the lake's snapshot that was the latest at that time (then also
    `at` and that snapshot's `snapshot_time`; the run keys stay today's)."""
    if at is not None:
        return _status_at(d, settings, at)
    status: dict[str, Any] = {"data_dir": str(d.root), "warehouse": None, "data_path": None, "snapshot_id": None}
    status.update(run_status(d))
    if published_snapshot_id(d, settings) is None:
        return status
    with published(d, settings) as con:  # the id and the figures of one snapshot
        where = lake_location(settings, d)  # never a secret: the catalog holds no password (core/settings.py)
        status["warehouse"], status["data_path"] = where.catalog, where.data_path
        status["snapshot_id"] = str(latest_snapshot_id(con))
        status.update(_figures(con, settings, None))
    return status


def _status_at(d: DataDir, settings: Settings, at: dt.datetime) -> dict[str, Any]:
    con = connect_lake(settings, d)
    try:
        con.execute("begin transaction")  # the snapshots listed are the ones read
        snapshot, committed = snapshot_at(con, settings, at)
        status: dict[str, Any] = {
            "data_dir": str(d.root),
            "warehouse": lake_location(settings, d).catalog,
            "data_path": lake_location(settings, d).data_path,
            "snapshot_id": str(snapshot),
            "at": at.isoformat(),
            "snapshot_time": committed.isoformat(),
        }
        status.update(run_status(d))
        status.update(_figures(con, settings, snapshot))
        con.execute("rollback")
    finally:
        con.close()
    return status


def snapshot_at(con: duckdb.DuckDBPyConnection, settings: Settings, at: dt.datetime) -> tuple[int, dt.datetime]:
    """The lake snapshot that was the latest at `at` and when it was committed; NotPublishedThen
    when nothing was published by then or that snapshot is expired (older than keep_days)."""
    snapshots = con.sql(
        "select snapshot_id, snapshot_time from ducklake_snapshots(current_database()) order by snapshot_id"
    ).fetchall()
    then = [(s, t) for s, t in snapshots if t <= at]
    if then and _has_refresh_runs(con, then[-1][0]):
        snapshot, committed = then[-1]
        return snapshot, committed.astimezone(dt.UTC)
    first = _first_published(con, snapshots)
    if snapshots and snapshots[0][0] > 0 and at < snapshots[0][1]:  # snapshot 0 (the lake's creation) expired
        oldest, when = first or snapshots[0]
        raise NotPublishedThen(
            f"{at.isoformat()} is older than the lake keeps (warehouse.keep_days = {settings.warehouse.keep_days}): "
            f"the oldest snapshot kept is {oldest}, committed at {when.astimezone(dt.UTC).isoformat()}"
        )
    if first is None:
        raise NotPublishedThen(f"nothing was published at {at.isoformat()}; nothing is published yet")
    raise NotPublishedThen(
        f"nothing was published at {at.isoformat()}; the first refresh was published at "
        f"{first[1].astimezone(dt.UTC).isoformat()}"
    )


def _first_published(con: duckdb.DuckDBPyConnection, snapshots: list[tuple[int, dt.datetime]]):
    """The first snapshot that holds the tables (they stay once created): a binary search."""
    lo, hi = 0, len(snapshots)
    while lo < hi:
        mid = (lo + hi) // 2
        if _has_refresh_runs(con, snapshots[mid][0]):
            hi = mid
        else:
            lo = mid + 1
    return snapshots[lo] if lo < len(snapshots) else None


def _has_refresh_runs(con: duckdb.DuckDBPyConnection, snapshot: int) -> bool:
    try:
        con.sql("select 1 from refresh_runs at (version => $v) limit 0", params={"v": snapshot}).fetchall()
    except duckdb.CatalogException:
        return False  # before the first refresh created the tables
    return True


def _figures(con: duckdb.DuckDBPyConnection, settings: Settings, version: int | None) -> dict[str, Any]:
    """The published figures of `con`'s snapshot, or of the lake's snapshot `version`."""
    at = "" if version is None else " at (version => $version)"
    ver = {} if version is None else {"version": version}
    streams = {}
    for stream in STREAMS:
        rows, first, last = con.sql(
            f"select count(*), timezone($tz, min(event_at))::date, timezone($tz, max(event_at))::date "
            f"from {stream}_events{at}",
            params={"tz": settings.timezone, **ver},
        ).fetchall()[0]
        quarantined = con.sql(
            f"select count(*) from quarantine_rows{at} where stream = $s", params={"s": stream, **ver}
        ).fetchall()[0][0]
        streams[stream] = {
            "rows": rows,
            "first_day": _iso(first),
            "last_day": _iso(last),
            "quarantined": quarantined,
        }
    last_refresh, runs = con.sql(f"select max(finished_at), count(*) from refresh_runs{at}", params=ver).fetchall()[0]
    files, unreadable = con.sql(
        f"select count(*), count(*) filter (where status = 'unreadable') from file_ledger{at}", params=ver
    ).fetchall()[0]
    return {
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


def parse_at(text: str, timezone: str) -> dt.datetime:
    """`--at`: an ISO date-time with its offset, or a date (the end of that day in the campaign
    timezone). ValueError naming what is expected."""
    expected = "an ISO date-time with its offset (2026-11-30T18:00:00+07:00) or a date (2026-11-30)"
    try:
        if len(text.strip()) == 10:
            day = dt.date.fromisoformat(text.strip())
            return dt.datetime.combine(day, dt.time.max, tzinfo=ZoneInfo(timezone))
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not {expected}") from None
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no offset; give {expected}")
    return at


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
    if published_snapshot_id(d) is None:
        return None
    with published(d) as con:  # the id and the time of one snapshot
        (finished,) = con.sql("select max(finished_at) from refresh_runs").fetchall()[0]
        return str(latest_snapshot_id(con)), finished


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
