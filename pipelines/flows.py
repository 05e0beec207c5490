"""The Prefect flows: thin wrappers of `pipelines.refresh.refresh` and `pipelines.housekeeping`."""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Cancelled, Failed
from prefect.task_runners import ProcessPoolTaskRunner
from prefect.tasks import exponential_backoff

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings, load_settings
from pipelines import notify, outcomes
from pipelines import refresh as r
from pipelines.lake_write import RefreshBusy
from pipelines.stage import Spread
from pipelines.stage_file import StagedFile, StageJob, shards, stage_file_parts

RETRIES = 3  # waits 2, 4 and 8 s: enough for a file lock to go, or an operator to free space


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry condition: retry a full disk or a locked file, never a validation error."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as e:  # the result could not be read back: judge the error that says so
        exc = e
    return isinstance(exc, BaseException) and outcomes.is_transient(exc)


# The stateless stage of a shard of files (pipelines/stage_file.py), on a stage worker process:
# a transient error is retried there; a worker that died is retried by on_workers.
def retried_task(fn: Any, name: str) -> Any:
    """`fn` as a Prefect task that retries a transient error (retry_if_transient) with backoff, results in memory."""
    return task(
        fn,
        name=name,
        cache_policy=NO_CACHE,
        retries=RETRIES,
        retry_delay_seconds=exponential_backoff(2),
        retry_condition_fn=retry_if_transient,
    )


stage_file = retried_task(stage_file_parts, "stage files")


def _use_api(url: str | None) -> None:
    """A stage worker process reports to the refresh's Prefect API (its own temporary server otherwise)."""
    if url:
        os.environ["PREFECT_API_URL"] = url


def _api_url() -> str | None:
    """The Prefect API this process reports to: PREFECT_API_URL, or the temporary server Prefect started."""
    if url := os.environ.get("PREFECT_API_URL"):
        return url
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    return server.api_url if server.running else None


def on_workers(settings: Settings, d: DataDir, workers: int) -> Spread:
    """Stage a load's files as Prefect tasks on `workers` processes (ProcessPoolTaskRunner), one
    task a shard of files (stage_file.shards). A worker that dies (killed, out of memory) breaks
    its pool: the shards not finished are staged again on a new pool, up to RETRIES times; a
    finished shard's parts are kept. Each attempt writes parts of its own names, and only those
    the results name are taken, so nothing is counted twice."""

    def spread(jobs: list[StageJob]) -> list[StagedFile]:
        done: dict[str, StagedFile] = {}
        todo = shards(jobs, workers)
        for attempt in range(RETRIES + 1):
            died: list[list[StageJob]] = []
            runner = ProcessPoolTaskRunner(max_workers=len(todo), initializer=_use_api, initargs=(_api_url(),))
            with runner:
                futures = [
                    (shard, runner.submit(stage_file, {"settings": settings, "d": d, "jobs": shard})) for shard in todo
                ]
                for shard, future in futures:
                    try:
                        done.update((s.rel, s) for s in future.result())
                    except BrokenProcessPool:
                        died.append(shard)
            if not died:
                return [done[j.file.rel] for j in jobs]
            get_run_logger().warning(
                "a stage worker died (attempt %d of %d); staging %d file(s) again",
                attempt + 1,
                RETRIES + 1,
                sum(map(len, died)),
            )
            todo = died
        raise outcomes.TransientError(f"stage workers died {RETRIES + 1} times staging {sum(map(len, todo))} file(s)")

    return spread


def _load_on_workers(
    settings: Settings,
    d: DataDir,
    settle_seconds: float,
    now: dt.datetime | None,
    workers: int = 0,
    pool: str | None = None,
) -> r.RefreshResult:
    """`pipelines.refresh.load`, its files staged on `workers` stage worker processes (0: here),
    or in `workers` shards (at least 2) on the Prefect work pool `pool` (pipelines/work_pool.py)."""
    if pool:
        from pipelines.work_pool import on_pool

        spread: Spread | None = on_pool(settings, d, pool, max(workers, 2))
    else:
        spread = on_workers(settings, d, workers) if workers else None
    return r.load(settings, d, settle_seconds, now, spread=spread)


# Discovery, staging and the commit are one task: a full disk that was freed, or a catalog
# another process held locked, is worth another attempt, with backoff; a failed commit's
# transaction is gone, so the attempt discovers and stages again. Results stay in memory.
load = retried_task(_load_on_workers, "discover, read, validate, stage and commit")


@flow(name="refresh", validate_parameters=False, log_prints=False)
def refresh(
    data_dir: str,
    config: str | None = None,
    settle_seconds: float = r.DEFAULT_SETTLE_SECONDS,
    wait_seconds: float = 0,
    trigger: str = "manual",
    workers: int | None = None,
    pool: str | None = None,
) -> dict[str, Any]:
    """`pipelines.refresh.refresh` with its load step as the retried task above, its files staged
    on `workers` processes (None: `schedule.workers`; 0: in the flow's own process), or with `pool`
    on that Prefect work pool's workers, in `workers` shards. Its outcome goes
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
        n = settings.schedule.workers if workers is None else workers
        result = r.refresh(
            settings,
            d,
            settle_seconds=settle_seconds,
            wait_seconds=wait_seconds,
            trigger=trigger,
            load_step=partial(load, workers=n, pool=pool),
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
