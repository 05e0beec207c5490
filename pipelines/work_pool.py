"""Stage workers on other machines: a Prefect work pool (`pulse worker --pool NAME` on each
worker machine, `pulse refresh --pool NAME` on the committer's).

A worker machine runs Prefect's process worker on the pool, after making the pool (type
`process`) if it is missing and the deployment `stage files/NAME` of the flow `stage_files`
below, by module path: every machine runs the same installed project, nothing is shipped. The
committer's refresh splits its files into shards (stage_file.shards) and starts one flow run of
that deployment a shard; each run stages its shard with the worker machine's own settings for
the key (PULSE_HMAC_KEY, or the data dir's secrets file) but the committer's validation
settings (passed with the shard: both sides must judge rows alike), writes its parts under the
data path and, next to them, a manifest of what it staged (pipelines/stage_file.py), which the
committer reads: a flow run's return value would stay on its own machine. A run that crashed,
failed or was cancelled is started again, up to RETRIES times; each attempt writes parts and a
manifest of its own names. The landing files must be where every worker reaches them: in a
bucket (`landing.path = "s3://…"`), or a folder at the same path on every machine.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

from prefect import flow, get_run_logger

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import work_connection
from core.settings import Settings, settings_from_dict
from pipelines import outcomes
from pipelines.stage import Spread
from pipelines.stage_file import MANIFEST, StagedFile, StageJob, read_manifest, shards, stage_file_parts, write_manifest

RETRIES = 3
FLOW_NAME = "stage files"
RUN_TIMEOUT_SECONDS = 3 * 3600  # a shard's flow run: from scheduled to finished


@flow(name=FLOW_NAME, validate_parameters=False, log_prints=False)
def stage_files(settings: dict[str, Any], jobs: list[dict[str, Any]], manifest: str) -> int:
    """A shard of a refresh's files, staged on a work pool's worker machine (its data dir:
    PULSE_DATA_DIR, which `pulse worker` sets): the parts under the data path, then the manifest."""
    d = DataDir.resolve()
    s = settings_from_dict(settings, "the committer's settings")
    staged = stage_file_parts(s, d, [StageJob.from_json(j) for j in jobs])
    write_manifest(s, d, manifest, staged)
    return len(staged)


def deployment_name(pool: str) -> str:
    return f"{FLOW_NAME}/{pool}"


def on_pool(settings: Settings, d: DataDir, pool: str, shards_wanted: int) -> Spread:
    """Stage a load's files as flow runs of `stage files/POOL`, one a shard, on the pool's workers."""
    from prefect.deployments import run_deployment
    from prefect.flow_runs import wait_for_flow_run

    def spread(jobs: list[StageJob]) -> list[StagedFile]:
        _check_pool(pool)
        done: dict[str, StagedFile] = {}
        todo = shards(jobs, shards_wanted)
        con = work_connection(settings, d)
        try:
            for attempt in range(RETRIES + 1):
                started = []
                for shard in todo:
                    manifest = f"{shard[0].out}{uuid.uuid4().hex[:12]}-{MANIFEST}"
                    run = run_deployment(
                        deployment_name(pool),
                        parameters={
                            "settings": settings.model_dump(mode="json"),
                            "jobs": [j.to_json() for j in shard],
                            "manifest": manifest,
                        },
                        timeout=0,
                    )
                    started.append((shard, run.id, manifest))
                failed = []
                for shard, run_id, manifest in started:
                    ended = _wait(wait_for_flow_run, run_id)
                    staged = read_manifest(con, manifest) if ended.state and ended.state.is_completed() else []
                    if len(staged) != len(shard):
                        failed.append(shard)
                        continue
                    done.update((s.rel, s) for s in staged)
                if not failed:
                    return [done[j.file.rel] for j in jobs]
                get_run_logger().warning(
                    "%d stage flow run(s) on pool %s did not finish (attempt %d of %d); staging them again",
                    len(failed),
                    pool,
                    attempt + 1,
                    RETRIES + 1,
                )
                todo = failed
        finally:
            con.close()
        raise outcomes.TransientError(f"the stage flow runs on pool {pool} failed {RETRIES + 1} times")

    return spread


def _wait(wait_for_flow_run: Any, run_id: Any) -> Any:
    from prefect.utilities.asyncutils import run_coro_as_sync

    return run_coro_as_sync(wait_for_flow_run(run_id, timeout=RUN_TIMEOUT_SECONDS, poll_interval=1))


def _check_pool(pool: str) -> None:
    """One line, before any run is started, when no worker could take them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import WorkerStatus
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
            client.read_deployment_by_name(deployment_name(pool))
        except ObjectNotFound:
            raise PulseError(
                f"the Prefect work pool {pool} has no stage deployment yet: start a worker with "
                f"'pulse worker --pool {pool}' (it makes both)"
            ) from None
        if not any(w.status == WorkerStatus.ONLINE for w in client.read_workers_for_work_pool(pool)):
            raise PulseError(
                f"no worker is online on the Prefect work pool {pool}: start one with 'pulse worker --pool {pool}'"
            )


def serve_pool(pool: str, d: DataDir) -> None:
    """`pulse worker --pool NAME`: the pool and the deployment made if missing, then Prefect's
    process worker on the pool until stopped; its flow runs stage with d's key (PULSE_DATA_DIR)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.utilities.asyncutils import run_coro_as_sync
    from prefect.workers.process import ProcessWorker

    if not os.environ.get("PREFECT_API_URL"):
        raise PulseError("pulse worker needs the deployment's Prefect server: set PREFECT_API_URL")
    os.environ["PULSE_DATA_DIR"] = str(d.root)  # the flow runs' data dir (they inherit the worker's environment)
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    deployment = stage_files.to_deployment(name=pool, entrypoint_type=EntrypointType.MODULE_PATH)
    deployment.apply(work_pool_name=pool)

    async def work() -> None:
        async with ProcessWorker(work_pool_name=pool, name=f"pulse-{os.uname().nodename}-{os.getpid()}") as worker:
            await worker.start()

    run_coro_as_sync(work())
