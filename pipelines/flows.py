"""The Prefect flow: a thin recipe over the plain functions in `pipelines.refresh`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from pipelines import refresh as r
from queries.datadir import DataDir
from queries.errors import PulseError
from queries.settings import load_settings

# Results stay in memory: task inputs are DuckDB plans and staged files, not data to cache.
discover_new_files = task(r.discover_new_files, name="discover new files", cache_policy=NO_CACHE)
stage = task(r.stage, name="read, validate and stage", cache_policy=NO_CACHE)
# Publishing renames files; a transient OS error (a full disk that was freed) is worth a retry.
publish = task(r.publish, name="publish snapshot", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)


@flow(name="refresh", validate_parameters=False, log_prints=False)
def refresh(
    data_dir: str,
    config: str | None = None,
    settle_seconds: float = r.DEFAULT_SETTLE_SECONDS,
    wait_seconds: float = 0,
) -> dict[str, Any]:
    """Load new landing files, publish one snapshot."""
    try:
        settings = load_settings(Path(config) if config else None)
        d = DataDir(Path(data_dir))
        lock = r.refresh_lock(d, wait_seconds)
    except PulseError as e:
        return Failed(message=str(e))  # one line for the operator, no traceback
    try:
        r.fault_point("after_lock")
        r.clean_leftovers(d)
        plan = discover_new_files(d, settle_seconds)
        r.fault_point("after_discover")
        staged = stage(settings, d, plan)
        snapshot_id = publish(d, staged, settings.warehouse.keep_snapshots)
        return r.RefreshResult.from_staged(staged, snapshot_id).to_json()
    except PulseError as e:
        return Failed(message=str(e))
    finally:
        lock.release()
