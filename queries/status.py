"""What is published: the read side of `pulse status`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queries.datadir import DataDir
from queries.reference import STREAMS
from queries.settings import Settings
from queries.warehouse import current_snapshot, published, snapshot_id_of


def snapshot_status(d: DataDir, settings: Settings) -> dict[str, Any]:
    """Rows per stream, campaign-day range, last refresh and quarantine totals."""
    path = current_snapshot(d)
    status: dict[str, Any] = {
        "data_dir": str(d.root),
        "warehouse": str(path) if path else None,
        "snapshot_id": snapshot_id_of(path) if path else None,
    }
    if path is None:
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


def last_refresh(d: DataDir) -> tuple[str, dt.datetime] | None:
    """(snapshot id, when it was published) for the freshness banner: one tiny query."""
    path = current_snapshot(d)
    if path is None:
        return None
    with published(d) as con:
        (finished,) = con.sql("select max(finished_at) from refresh_runs").fetchall()[0]
    return snapshot_id_of(path), finished


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
