"""The Prefect flows: thin wrappers of `pipelines.refresh.refresh` and `pipelines.housekeeping`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Cancelled, Failed
from prefect.tasks import exponential_backoff

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import load_settings
from pipelines import notify, outcomes
from pipelines import refresh as r
from pipelines.lake_write import RefreshBusy

RETRIES = 3  # waits 2, 4 and 8 s: enough for a file lock to go, or an operator to free space


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry condition: retry a full disk or a locked file, never a validation error."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as e:  # the result could not be read back: judge the error that says so
        exc = e
    return isinstance(exc, BaseException) and outcomes.is_transient(exc)


# Discovery, staging and the commit are one task: a full disk that was freed, or a catalog
# another process held locked, is worth another attempt, with backoff; a failed commit's
# transaction is gone, so the attempt discovers and stages again. Results stay in memory.
load = task(
    r.load,
    name="discover, read, validate, stage and commit",
    cache_policy=NO_CACHE,
    retries=RETRIES,
    retry_delay_seconds=exponential_backoff(2),
    retry_condition_fn=retry_if_transient,
)


@flow(name="refresh", validate_parameters=False, log_prints=False)
def refresh(
    data_dir: str,
    config: str | None = None,
    settle_seconds: float = r.DEFAULT_SETTLE_SECONDS,
    wait_seconds: float = 0,
    trigger: str = "manual",
) -> dict[str, Any]:
    """`pipelines.refresh.refresh` with its load step as the retried task above. Its outcome goes
    to DATA_DIR/runs.jsonl. A scheduled run (trigger "schedule") that finds another refresh
    running is skipped (Cancelled); an environmental error fails the run with one line."""
    d = DataDir(Path(data_dir))
    try:
        settings = load_settings(Path(config) if config else None)
    except PulseError as e:  # the config file is wrong: recorded like any failed run
        outcomes.record(d, "failure", trigger, outcomes.one_line(e))
        notify.after_refresh(None, d, failure=outcomes.one_line(e))
        return Failed(message=outcomes.one_line(e))
    try:
        result = r.refresh(
            settings, d, settle_seconds=settle_seconds, wait_seconds=wait_seconds, trigger=trigger, load_step=load
        )
    except RefreshBusy as e:
        if trigger == "schedule":
            get_run_logger().warning("skipped: %s", e)
            return Cancelled(message=f"skipped: {e}")
        return Failed(message=str(e))  # one line for the operator, no traceback
    except PulseError as e:
        return Failed(message=str(e))
    return result.to_json()


@flow(name="housekeeping", validate_parameters=False, log_prints=False)
def housekeeping(data_dir: str, config: str | None = None, deployment_ids: list[str] | None = None) -> dict[str, Any]:
    """Expire old lake snapshots, prune refresh outcomes and Prefect flow-run records; keep quarantine and ledger."""
    from pipelines import housekeeping as h

    d = DataDir(Path(data_dir))
    try:
        settings = load_settings(Path(config) if config else None)
        pruned = h.prune_data_dir(settings, d)
    except (PulseError, OSError) as e:
        return Failed(message=outcomes.one_line(e))
    pruned["flow_runs_removed"] = h.prune_flow_runs(settings.schedule.keep_run_days, deployment_ids)
    get_run_logger().info("housekeeping: %s", pruned)
    return pruned
