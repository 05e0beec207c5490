"""The load spread over stage workers (issue 17 point 2): the stateless stage of each file (hash,
read, validate, key the user ids: pipelines/stage_file.py) runs apart from the lake and writes
its rows as Parquet parts under the data path; one committer takes them in the plan's order. The
same landing files give the same lake, counts, marts and page figures as the load staged in the
committer's own process; with Prefect, on real worker processes, a worker killed mid-file is
staged again and nothing is counted twice."""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import lake_location
from core.settings import Settings
from pipelines import refresh as r
from pipelines import stage_file
from pipelines.demo_data import write_demo_data
from pipelines.discover import LandingFile
from pipelines.marts import MARTS
from pipelines.stage_file import STAGING_FOLDER, StageJob, shards, stage_file_parts
from queries.warehouse import NothingPublished
from tests.test_crash_and_concurrency import fingerprint
from tests.test_scale_out import KEY, SPEC, _tables, assert_same_figures, environ, page_figures

# Every load stamps these with its own time; the rest of each row is the same.
TIMES = ("processed_at", "released_at")
TABLES = [m.name for m in MARTS] + ["partner_releases", "user_numbers", "quarantine_rows", "file_ledger"]


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A demo landing zone (planted bad rows, an unreadable file, a file landed twice, events
    re-sent in later files), and one file re-sent whole under another name."""
    d = DataDir(tmp_path_factory.mktemp("workers") / "src").ensure()
    write_demo_data(Settings(), d, SPEC)
    first = sorted((d.landing / "engagement").rglob("*.csv*"))[0]
    shutil.copy(first, first.with_name("resent-" + first.name))
    return d


def _landed(src: DataDir, root: Path) -> DataDir:
    d = DataDir(root).ensure()
    shutil.copytree(src.landing, d.landing, dirs_exist_ok=True)
    return d


@pytest.fixture(scope="module")
def here(src: DataDir, tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, dict]:
    """The same files staged in the committer's own process: what every spread load must equal."""
    d = _landed(src, tmp_path_factory.mktemp("here") / "data")
    with environ({"PULSE_HMAC_KEY": KEY}):
        result = r.refresh(Settings(), d, settle_seconds=0)
    return d, result.to_json()


def _in_shards(n: int, d: DataDir):
    """A spread that stages the shards one after the other in this process (no Prefect)."""

    def spread(jobs: list[StageJob]):
        return [s for shard in shards(jobs, n) for s in stage_file_parts(Settings(), d, shard)]

    return spread


def _same_load(got: dict, expected: dict) -> None:
    for part in ("engagement", "referral", "safety", "files", "unknown_columns"):
        assert got[part] == expected[part], part


def _same_lake(d: DataDir, here: DataDir) -> None:
    with environ({"PULSE_HMAC_KEY": KEY}):
        assert fingerprint(d) == fingerprint(here)
        got, expected = _tables(d, TABLES), _tables(here, TABLES)
        for name in TABLES:
            cols = [c for c in expected[name].columns if c not in TIMES]
            assert got[name].select(cols).equals(expected[name].select(cols)), name
        assert_same_figures(_timeless(page_figures(d)), _timeless(page_figures(here)))


def _timeless(figures: list) -> list:
    return [(page, f.drop(TIMES, strict=False) if isinstance(f, pl.DataFrame) else f) for page, f in figures]


def test_staged_in_shards_the_lake_is_the_one_staged_here(src, here, tmp_path: Path, monkeypatch) -> None:
    """Small chunks and flushes, so a file's rows cross several parts and the committer's
    flushes fall between the parts of one file: the first sighting still wins everywhere."""
    monkeypatch.setattr(stage_file, "CHUNK_ROWS", 700)
    monkeypatch.setattr(stage_file, "FLUSH_ROWS", 1500)
    monkeypatch.setattr("pipelines.stage.FLUSH_ROWS", 2500)
    d = _landed(src, tmp_path / "data")
    seen: list[int] = []

    def counting(jobs):
        out = _in_shards(3, d)(jobs)
        seen.append(sum(len(s.parts) for s in out))
        return out

    with environ({"PULSE_HMAC_KEY": KEY}):
        result = r.refresh(Settings(), d, settle_seconds=0, load_step=functools.partial(r.load, spread=counting))
    _same_load(result.to_json(), here[1])
    assert result.files["new"] > 20 and result.streams["engagement"].duplicates > 0
    assert seen[0] > result.files["new"]  # some files made more than one part
    _same_lake(d, here[0])
    staging = Path(lake_location(Settings(), d).data_path) / STAGING_FOLDER
    assert not any(staging.rglob("*")), "the load's parts are removed once it committed"


def test_a_file_damaged_after_its_first_parts_loses_them_all(tmp_path: Path, monkeypatch) -> None:
    """A gzip cut short after its first chunks: the worker drops its parts, the file is
    recorded unreadable, and no row of it reaches the lake (CONTRACT §2: whole or not at all)."""
    import gzip

    from pipelines import read

    monkeypatch.setattr(stage_file, "CHUNK_ROWS", 50)
    monkeypatch.setattr(stage_file, "FLUSH_ROWS", 100)
    monkeypatch.setattr(read._Blocks.__init__, "__defaults__", (4096,))  # the text a few KiB at a time
    dropped: list[int] = []
    unload = stage_file.Parts.unload

    def counting_unload(self, stream, params):
        dropped.append(len(self.parts))
        unload(self, stream, params)

    monkeypatch.setattr(stage_file.Parts, "unload", counting_unload)
    d = DataDir(tmp_path / "data").ensure()
    head = "event_id,event_time,user_id,event_type,video_id,surface,province,age_band,language\n"
    row = "{},2026-11-20T10:00:00Z,u{},view,v1,for_you,KH-12,18-24,km\n"
    lines = "".join(row.format(f"e{i}", i) for i in range(2000))
    blob = gzip.compress((head + lines).encode())
    (d.landing / "engagement").mkdir(parents=True, exist_ok=True)
    (d.landing / "engagement" / "cut.csv.gz").write_bytes(blob[: len(blob) * 2 // 3])
    (d.landing / "engagement" / "whole.csv").write_text(head + row.format("w1", 1))
    with environ({"PULSE_HMAC_KEY": KEY}):
        result = r.refresh(
            Settings(), d, settle_seconds=0, load_step=functools.partial(r.load, spread=_in_shards(2, d))
        )
    assert [u["path"] for u in result.files["unreadable"]] == ["engagement/cut.csv.gz"]
    assert dropped and dropped[0] >= 2, "the worker had written parts of the file before it broke"
    assert result.streams["engagement"].loaded == 1
    with environ({"PULSE_HMAC_KEY": KEY}):
        assert fingerprint(d)["engagement"][0] == 1


def test_a_worker_with_another_key_loads_nothing(src, tmp_path: Path) -> None:
    """Its user keys would count every person again: the committer refuses its parts."""
    d = _landed(src, tmp_path / "data")

    def other_key(jobs):
        with environ({"PULSE_HMAC_KEY": "another-key-0123456789abcdef0123456789abcdef"}):
            return _in_shards(2, d)(jobs)

    with environ({"PULSE_HMAC_KEY": KEY}), pytest.raises(PulseError, match="another HMAC key"):
        r.refresh(Settings(), d, settle_seconds=0, load_step=functools.partial(r.load, spread=other_key))
    with environ({"PULSE_HMAC_KEY": KEY}), pytest.raises(NothingPublished):
        fingerprint(d)
    assert not any((Path(lake_location(Settings(), d).data_path) / STAGING_FOLDER).rglob("*.parquet"))


def _job(rel: str, size: int) -> StageJob:
    f = LandingFile(path=Path("/nowhere") / rel, rel=rel, stream="engagement", size=size, mtime_ns=0)
    return StageJob(f, "load", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), frozenset(), "/nowhere/")


def test_shards_are_balanced_by_bytes_and_keep_the_plan_order() -> None:
    jobs = [_job(f"f{i}", size) for i, size in enumerate([900, 10, 10, 500, 400, 10, 300, 200])]
    got = shards(jobs, 3)
    assert sorted(j.file.rel for s in got for j in s) == sorted(j.file.rel for j in jobs)
    weights = [sum(j.file.size for j in s) for s in got]
    assert max(weights) - min(weights) <= 210, weights
    for s in got:
        assert [j.file.rel for j in s] == sorted((j.file.rel for j in s), key=lambda r: int(r[1:]))
    assert len(shards(jobs[:2], 8)) == 2 and shards([], 4) == []


def _pulse_refresh(pulse, d: DataDir, env: dict[str, str] | None = None):
    """`pulse refresh --workers 2` on d: its result (exit code, stdout, stderr)."""
    args = ("refresh", "--data-dir", str(d.root), "--settle", "0", "--json", "--workers", "2")
    out = pulse(*args, env={"PULSE_HMAC_KEY": KEY, **(env or {})})
    assert out.code == 0, out.err
    return out


def test_pulse_refresh_on_two_worker_processes(src, here, pulse, tmp_path: Path) -> None:
    """The CLI, Prefect and two real worker processes: the same load as staged here."""
    d = _landed(src, tmp_path / "data")
    result = json.loads(_pulse_refresh(pulse, d).out)
    assert "stage_workers_s" in result["timings"]
    _same_load(result, here[1])
    _same_lake(d, here[0])


def test_a_killed_stage_worker_is_staged_again_and_nothing_counted_twice(src, here, pulse, tmp_path: Path) -> None:
    """A worker process killed (SIGKILL) after its first chunk: Prefect's pool breaks, the
    shards not finished are staged again on a new pool, and the lake is the one staged here."""
    d = _landed(src, tmp_path / "data")
    died = tmp_path / "died"
    env = {"PULSE_FAULT_KILL_AT": "stage_after_chunk", "PULSE_FAULT_ONCE": str(died)}
    out = _pulse_refresh(pulse, d, env)
    assert died.exists(), "a worker was killed"
    assert "a stage worker died" in out.err
    _same_load(json.loads(out.out), here[1])
    _same_lake(d, here[0])


# --- a Prefect work pool: stage workers on another machine ---------------------------------


def _prefect_url() -> str:
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    assert url, "the session's Prefect test server"
    return url


def test_a_refresh_on_a_pool_with_no_worker_says_how_to_start_one(src, pulse, prefect_api, tmp_path: Path) -> None:
    d = _landed(src, tmp_path / "data")
    out = pulse(
        "refresh", "--data-dir", str(d.root), "--settle", "0", "--pool", "nobody",
        env={"PULSE_HMAC_KEY": KEY, "PREFECT_API_URL": _prefect_url()},
    )  # fmt: skip
    assert out.code == 1
    assert out.err.strip().splitlines()[-1] == (
        "Error: the Prefect work pool nobody has no stage deployment yet: start a worker with "
        "'pulse worker --pool nobody' (it makes both)"
    )
    with environ({"PULSE_HMAC_KEY": KEY}), pytest.raises(NothingPublished):
        fingerprint(d)


@pytest.mark.parametrize("killed", [False, True], ids=["as_run", "a_run_killed"])
def test_a_work_pool_worker_on_another_machine_stages_the_files(
    src, here, pulse, prefect_api, clean_env, tmp_path: Path, killed: bool
) -> None:
    """`pulse worker --pool` in a data dir of its own (another machine: its own state, the key
    from PULSE_HMAC_KEY) takes the shards of `pulse refresh --pool` through a real Prefect server
    and work pool; the committer reads the manifests and parts: the lake is the one staged here.
    With one flow run killed (SIGKILL) after its first chunk, its shard is run again."""
    import subprocess
    import time

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from tests.conftest import PULSE

    url = _prefect_url()
    env = {
        "PULSE_HMAC_KEY": KEY,
        "PREFECT_API_URL": url,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1",
    }
    pool = f"stage-test-{'killed' if killed else 'run'}"
    died = tmp_path / "died"
    fault = {"PULSE_FAULT_KILL_AT": "stage_after_chunk", "PULSE_FAULT_ONCE": str(died)} if killed else {}
    machine = DataDir(tmp_path / "worker-machine" / "data").ensure()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(PULSE), "--data-dir", str(machine.root), "worker", "--pool", pool],
        env={**clean_env, **env, **fault}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while True:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
                try:
                    deployment = client.read_deployment_by_name(f"stage files/{pool}")
                    break
                except ObjectNotFound:
                    assert time.monotonic() < deadline, "the worker made no deployment"
                    time.sleep(0.5)
        d = _landed(src, tmp_path / "data")
        out = pulse("refresh", "--data-dir", str(d.root), "--settle", "0", "--json", "--pool", pool, env=env)
        assert out.code == 0, out.err + (tmp_path / "worker.log").read_text()[-3000:]
        result = json.loads(out.out)
        assert result["timings"]["stage_workers_s"] > 0
        _same_load(result, here[1])
        _same_lake(d, here[0])
        with get_client(sync_client=True) as client:
            runs = [r for r in client.read_flow_runs() if r.deployment_id == deployment.id]
        states = sorted(r.state.type.value for r in runs if r.state)
        assert states == (["COMPLETED", "COMPLETED", "CRASHED"] if killed else ["COMPLETED", "COMPLETED"]), states
        assert died.exists() == killed
        assert ("did not finish (attempt 1 of 4); staging them again" in out.err) == killed
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()


def test_a_shards_manifest_round_trips_and_housekeeping_removes_what_a_load_left(src, tmp_path: Path) -> None:
    """The manifest a pool's flow run writes reads back as what it staged; a load's parts and
    manifest left under the data path (a killed committer, or object storage, where they are
    not removed at once) are orphans to DuckLake's cleanup: both are Parquet files."""
    from core.lake import work_connection
    from pipelines.housekeeping import prune_lake
    from pipelines.stage_file import MANIFEST, read_manifest, write_manifest

    d = _landed(src, tmp_path / "data")
    with environ({"PULSE_HMAC_KEY": KEY}):
        r.refresh(Settings(), d, settle_seconds=0)
        plan_jobs = [_job_for(d, p) for p in sorted((d.landing / "referral").rglob("*.csv*"))[:2]]
        staged = stage_file_parts(Settings(), d, plan_jobs)
        manifest = f"{plan_jobs[0].out}abc-{MANIFEST}"  # the name a flow run gives it
        write_manifest(Settings(), d, manifest, staged)
        con = work_connection(Settings(), d)
        try:
            assert read_manifest(con, manifest) == staged
            assert read_manifest(con, f"{plan_jobs[0].out}none-manifest.parquet") == []
        finally:
            con.close()
        left = sorted(
            p for p in (Path(lake_location(Settings(), d).data_path) / STAGING_FOLDER).rglob("*") if p.is_file()
        )
        assert len(left) == 1 + sum(len(s.parts) for s in staged) >= 3
        pruned = prune_lake(Settings(), d)
    assert pruned["orphans_removed"] == len(left)
    assert not [p for p in left if p.exists()]


def _job_for(d: DataDir, path: Path) -> StageJob:
    st = path.stat()
    rel = str(path.relative_to(d.landing))
    f = LandingFile(path=path, rel=rel, stream=rel.split("/")[0], size=st.st_size, mtime_ns=st.st_mtime_ns)
    out = f"{lake_location(Settings(), d).data_path}{STAGING_FOLDER}/left-by-a-load/{path.name}/"
    return StageJob(f, "left-by-a-load", dt.datetime.now(dt.UTC), frozenset(), out)
