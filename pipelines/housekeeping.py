"""Housekeeping, run daily by `pulse serve`: a year of hourly runs must not fill the disk.

On the lake, with DuckLake's own functions: snapshots older than `warehouse.keep_days`
expired (never the latest), the small Parquet files of hourly loads merged, files no snapshot
uses any more deleted an hour after they were let go (a reader that listed them still reads),
the Parquet files of a killed refresh (orphans: the catalog never knew them) deleted, and the
page cache's files of older snapshots and dead builders removed. Then refresh outcomes and
Prefect flow-run records older than `schedule.keep_run_days`. Kept: the quarantine and the file ledger (they live in every
snapshot), the landing zone, the last success and last failure.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from uuid import UUID

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from core.sqlfiles import sql
from pipelines import outcomes
from pipelines.lake_write import check_lease, writer_lock
from queries.lake_cache import prune_cache

log = logging.getLogger("pulse.housekeeping")
FLOW_NAMES = ["refresh", "housekeeping"]
LOCK_WAIT_SECONDS = 600  # a refresh that is running finishes first
PAGE = 200
CLEANUP_GRACE = dt.timedelta(hours=1)  # a file let go is deleted this long after: no reader still lists it


def prune_data_dir(settings: Settings, d: DataDir, now: dt.datetime | None = None) -> dict[str, int]:
    """The lake's old snapshots and files, old outcomes, under the
    refresh lock (never during a refresh). Returns what was removed, by kind."""
    lock = writer_lock(settings, d, LOCK_WAIT_SECONDS)
    try:
        pruned = prune_lake(settings, d, now)
        pruned["outcomes_removed"] = outcomes.prune_outcomes(d, settings.schedule.keep_run_days, now)
    finally:
        lock.release()
    log.info("housekeeping of %s: %s", d.root, pruned)
    return pruned


def prune_lake(settings: Settings, d: DataDir, now: dt.datetime | None = None) -> dict[str, int]:
    """Expire, merge, delete let-go and orphan files, prune the page cache (the refresh lock
    held by the caller: no refresh is writing files the catalog does not know yet)."""
    now = now or dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    con = connect_lake(settings, d)
    try:
        (lake,) = con.sql("select current_database()").fetchall()[0]
        cutoff = now - dt.timedelta(days=settings.warehouse.keep_days)
        old = [s for (s,) in con.sql(q("snapshots_older_than"), params={"lake": lake, "older_than": cutoff}).fetchall()]
        expired = con.sql(q("expire_snapshots"), params={"lake": lake, "versions": old}).fetchall() if old else []
        merged = con.sql(q("merge_adjacent_files"), params={"lake": lake}).fetchall()
        removed = con.sql(q("cleanup_old_files"), params={"lake": lake, "older_than": _day_before(now - CLEANUP_GRACE)})
        removed = removed.fetchall()
        check_lease(d)  # a lost lease: another machine's load may be writing files the catalog does not know yet
        orphans = con.sql(q("delete_orphaned_files"), params={"lake": lake}).fetchall()
    finally:
        con.close()
    pruned = {
        "snapshots_expired": len(expired),
        "files_merged": sum(processed for _, processed, _ in merged),
        "files_written_by_merge": sum(created for *_, created in merged),
        "files_removed": len(removed),
        "orphans_removed": len(orphans),
        "cache_files_removed": prune_cache(d, dt.datetime.now(dt.UTC) - CLEANUP_GRACE),  # real builders' age
    }
    log.info("lake housekeeping took %.1f s", time.perf_counter() - started)
    return pruned


def q(name: str) -> str:
    return sql(f"housekeeping/{name}", "pipelines")


def _day_before(t: dt.datetime) -> dt.datetime:
    """The last microsecond before `t`'s UTC day: files let go before that day are deleted
    (at least CLEANUP_GRACE ago, at most a day more; see cleanup_old_files.sql)."""
    day = t.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - dt.timedelta(microseconds=1)


def prune_flow_runs(keep_days: int, deployment_ids: list[str] | None = None, now: dt.datetime | None = None) -> int:
    """Delete finished flow runs of our flows older than `keep_days` from the Prefect API in use.
    On a shared server pass our deployments' ids so that other teams' runs are never touched."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=keep_days)
    filters: dict[str, Any] = {
        "flow_filter": FlowFilter(name=FlowFilterName(any_=FLOW_NAMES)),
        "flow_run_filter": FlowRunFilter(
            expected_start_time=FlowRunFilterExpectedStartTime(before_=cutoff),
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(
                    any_=[StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]
                )
            ),
        ),
    }
    if deployment_ids is not None:
        filters["deployment_filter"] = DeploymentFilter(id=DeploymentFilterId(any_=[UUID(i) for i in deployment_ids]))
    deleted = 0
    with get_client(sync_client=True) as client:
        while runs := client.read_flow_runs(**filters, limit=PAGE):
            for run in runs:
                client.delete_flow_run(run.id)
            deleted += len(runs)
            if len(runs) < PAGE:
                break
    return deleted
