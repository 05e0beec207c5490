"""Housekeeping, run daily by `pulse serve`: a year of hourly runs must not fill the disk.

Pruned: published snapshots beyond `warehouse.keep_snapshots` (publish prunes too), leftovers
of killed refreshes, refresh outcomes and Prefect flow-run records older than
`schedule.keep_run_days`. Kept: the quarantine and the file ledger (they live in every
snapshot), the landing zone, the last success and last failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from uuid import UUID

from pipelines import outcomes
from pipelines.refresh import refresh_lock
from queries.datadir import DataDir
from queries.settings import Settings

log = logging.getLogger("pulse.housekeeping")
FLOW_NAMES = ["refresh", "housekeeping"]
LOCK_WAIT_SECONDS = 600  # a refresh that is running finishes first
PAGE = 200


def prune_data_dir(settings: Settings, d: DataDir, now: dt.datetime | None = None) -> dict[str, int]:
    """Snapshots, leftovers and old outcomes, under the refresh lock (never during a refresh)."""
    lock = refresh_lock(d, LOCK_WAIT_SECONDS)
    try:
        dropped = outcomes.prune_outcomes(d, settings.schedule.keep_run_days, now)
    finally:
        lock.release()
    return {"outcomes_removed": dropped}


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
