"""Two machines writing one scaled-out lake (issue 17 points 2 and 3): two data dirs with their own
local state, each landing a disjoint half of one demo landing zone, refreshed at the same moment
by two real processes through one PostgreSQL catalog and one S3 bucket (benchmarks/services.py). The
refresh lease in the catalog (pipelines/lake_write.py) makes the second wait for the first and
then load only its own half: the lake ends as one embedded load of all the files would, read by
a third data dir as the dashboard's host would. A refresh killed while it holds the lease lets
the next one through within seconds (the server ends the killed process's session)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.services import S3, Postgres
from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings
from pipelines.demo_data import write_demo_data
from pipelines.marts import MARTS
from pipelines.refresh import refresh
from tests.test_migrate import legacy  # noqa: F401  (the fixture)
from tests.test_scale_out import KEY, NOW, SPEC, _tables, assert_same_figures, environ, page_figures

ROOT = Path(__file__).resolve().parent.parent

# One refresh in its own process, as on another machine: it waits at a barrier (a file per
# process under BARRIER, both present) so that the two start their refresh at the same moment.
RUNNER = """
import datetime as dt, json, sys, time
from pathlib import Path
from core.datadir import DataDir
from core.settings import Settings
from pipelines.refresh import load, refresh

root, barrier, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
now = dt.datetime.fromisoformat(sys.argv[4])
(barrier / root.parent.name).touch()
while len(list(barrier.iterdir())) < int(sys.argv[5]):
    time.sleep(0.005)

def held(settings, d, settle_seconds, now):  # holds the lease until killed
    (barrier.parent / "holding").touch()
    time.sleep(600)

def paused(settings, d, settle_seconds, now):  # holds the lease until told to go on
    (barrier.parent / "holding").touch()
    while not (barrier.parent / "go").exists():
        time.sleep(0.02)
    return load(settings, d, settle_seconds, now)

def loading(settings, d, settle_seconds, now):  # the lease taken: says when, then loads
    (barrier.parent / "loading").touch()
    return load(settings, d, settle_seconds, now)

try:
    result = refresh(
        Settings(), DataDir(root), settle_seconds=0, wait_seconds=float(sys.argv[6]), now=now,
        load_step={"hold": held, "pause": paused, "load": loading}[mode],
    )
except Exception as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
print(json.dumps(result.to_json()))
"""


def start(root: Path, barrier: Path, env: dict[str, str], *, parties: int, wait: float, mode: str = "load"):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            str(root),
            str(barrier),
            mode,
            NOW.isoformat(),
            str(parties),
            str(wait),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(p: subprocess.Popen) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=300)
    return p.returncode, out, err


class Deployment:
    """One PostgreSQL catalog and one bucket; machines A and B land half of the files each,
    machine C only reads (the dashboard's host); an embedded data dir loads all the files."""

    def __init__(self, root: Path, pg: Postgres, s3: S3, name: str) -> None:
        self.root, self.pg = root, pg
        src = DataDir(root / "src").ensure()
        write_demo_data(Settings(), src, SPEC)
        files = sorted(p.relative_to(src.landing) for p in src.landing.rglob("*") if p.is_file())
        self.machines = {m: DataDir(root / m / "data").ensure() for m in ("a", "b", "c")}
        self.embedded = DataDir(root / "embedded" / "data").ensure()
        self.src, self.files = src, files
        self.halves = {"a": files[0::2], "b": files[1::2]}
        for m, half in self.halves.items():
            self.land(self.machines[m], half)
        self.land(self.embedded, files)
        self.catalog = "postgres:" + pg.create_database(name)
        self.data_path = s3.create_bucket(name.replace("_", "-")) + "warehouse/"
        self.env = {
            "PULSE_HMAC_KEY": KEY,
            "PULSE_CATALOG": self.catalog,
            "PULSE_DATA_PATH": self.data_path,
            **pg.env,
            **s3.env,
        }

    def land(self, d: DataDir, files: list[Path]) -> None:
        for rel in files:
            target = d.landing / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((self.src.landing / rel).read_bytes())

    def barrier(self, name: str) -> Path:
        b = self.root / name / "arrived"
        b.mkdir(parents=True)
        return b


@pytest.mark.parametrize("catalog", ["new", "made"])
def test_two_machines_refreshing_at_once_end_as_one_embedded_load(
    postgres_server: Postgres, s3_server: S3, tmp_path: Path, catalog: str
) -> None:
    """On a new catalog (both would create DuckLake's tables) and on one made before (both
    would stage and commit at once)."""
    from core.lake import connect_lake, detach_lake
    from tests.test_crash_and_concurrency import fingerprint

    dep = Deployment(tmp_path, postgres_server, s3_server, f"two_machines_{catalog}")
    with environ({"PULSE_HMAC_KEY": KEY}):
        single = refresh(Settings(), dep.embedded, settle_seconds=0, now=NOW)
    if catalog == "made":  # attaching creates DuckLake's tables (snapshot 0)
        with environ(dep.env):
            connect_lake(Settings(), dep.machines["c"]).close()
            detach_lake(Settings(), dep.machines["c"])  # later lookups of this process never reach it

    barrier = dep.barrier("together")
    procs = {m: start(dep.machines[m].root, barrier, dep.env, parties=2, wait=120) for m in ("a", "b")}
    done = {m: finish(p) for m, p in procs.items()}
    for m, (code, _out, err) in done.items():
        assert code == 0, f"machine {m}: {err.strip().splitlines()[-1:]}"
    results = {m: json.loads(out.strip().splitlines()[-1]) for m, (_code, out, _err) in done.items()}

    # each machine loaded its own half, one after the other: two snapshots, nothing read twice
    seen = {
        m: r["files"]["new"] + r["files"]["skipped_seen"] + len(r["files"]["unreadable"]) for m, r in results.items()
    }
    assert seen == {m: len(h) for m, h in dep.halves.items()}
    for key in ("new", "skipped_seen"):
        assert sum(r["files"][key] for r in results.values()) == single.files[key] > 0, key
    assert [u for r in results.values() for u in r["files"]["unreadable"]] == single.files["unreadable"]
    assert sorted(r["snapshot_id"] for r in results.values()) == ["1", "2"]
    assert dep.pg.sql(f"two_machines_{catalog}", "select count(*) from ducklake_snapshot").strip() == "3"
    for stream in ("engagement", "referral", "safety"):
        e = single.to_json()[stream]
        for key in ("read", "loaded", "duplicates"):
            assert sum(r[stream][key] for r in results.values()) == e[key], (stream, key)
        assert sum(r[stream]["quarantined"]["total"] for r in results.values()) == e["quarantined"]["total"], stream
    assert single.streams["engagement"].loaded > 3000

    c = dep.machines["c"]  # the dashboard's host: no landing files, only the shared lake
    names = [m.name for m in MARTS] + ["partner_releases", "user_numbers"]

    # One machine loading the same two halves in turn, in the order the lease let them commit:
    # what the two machines must equal row for row, page for page.
    first = min(results, key=lambda m: int(results[m]["snapshot_id"]))
    turns = DataDir(tmp_path / "turns" / "data").ensure()
    with environ({"PULSE_HMAC_KEY": KEY}):
        for m in (first, "b" if first == "a" else "a"):
            dep.land(turns, dep.halves[m])
            refresh(Settings(), turns, settle_seconds=0, now=NOW)
    in_turns, in_turns_pages = _tables(turns, names), page_figures(turns)
    embedded = _tables(dep.embedded, names)
    try:
        with environ(dep.env):
            assert fingerprint(c) == fingerprint(dep.embedded)  # events, quarantine, ledger
            shared, shared_pages = _tables(c, names), page_figures(c)
    finally:
        with environ(dep.env):
            detach_lake(Settings(), c)
    for name in names:
        assert shared[name].equals(in_turns[name]), name
    # A load numbers the users it sees first after those numbered before, and a partner's week
    # once released stays as released: those depend on how the files were split into loads.
    # Every other mart equals one load of all the files.
    by_split = ["mart_engagement_people_daily", "partner_releases", "user_numbers"]
    assert [n for n in names if not shared[n].equals(embedded[n])] == by_split
    assert in_turns["partner_releases"].height > 100 and shared["user_numbers"].height > 1000
    assert_same_figures(shared_pages, in_turns_pages)


def test_a_refresh_killed_holding_the_lease_lets_the_next_one_through(
    postgres_server: Postgres, s3_server: S3, tmp_path: Path, pulse
) -> None:
    """Machine A takes the lease and is SIGKILLed while it holds it; machine B's refresh is
    refused while A lives (another data dir: A's file lock is not what stops it), then runs as
    soon as PostgreSQL has ended A's session, and loads its half."""
    dep = Deployment(tmp_path, postgres_server, s3_server, "killed_holder")
    holder = start(dep.machines["a"].root, dep.barrier("holder"), dep.env, parties=1, wait=0, mode="hold")
    holding = tmp_path / "holder" / "holding"
    deadline = time.monotonic() + 120
    while not holding.exists():
        assert holder.poll() is None, holder.communicate()[1]
        assert time.monotonic() < deadline, "the holder never took the lease"
        time.sleep(0.05)
    try:
        _refused_then_through(dep, holder, tmp_path, pulse)
    finally:
        holder.kill()


def _refused_then_through(dep: Deployment, holder: subprocess.Popen, tmp_path: Path, pulse) -> None:
    from pipelines.lake_write import LEASE_KEY

    leases = (
        "select count(*) from pg_locks where locktype = 'advisory' and granted "
        f"and (classid::bigint << 32 | objid::bigint) = {LEASE_KEY} and database = "
        "(select oid from pg_database where datname = current_database())"
    )
    assert dep.pg.sql("killed_holder", leases).strip() == "1"  # A's, in the catalog's database
    busy = finish(start(dep.machines["b"].root, dep.barrier("busy"), dep.env, parties=1, wait=0.5))
    assert busy[0] == 1, busy
    assert busy[2].strip().splitlines()[-1] == (
        f"RefreshBusy: another refresh is writing the lake ({dep.catalog}) (waited 0.5 s); "
        "try again when it ends, or pass --wait SECONDS"
    )
    cli = pulse("--data-dir", str(dep.machines["b"].root), "refresh", "--json", "--wait", "0.3", env=dep.env)
    assert (cli.code, cli.out) == (1, "")
    assert cli.err == (
        f"Error: another refresh is writing the lake ({dep.catalog}) (waited 0.3 s); "
        "try again when it ends, or pass --wait SECONDS\n"
    )
    # B asks again, waiting this time; it waits while A lives, and loads once A is killed
    waiting = start(dep.machines["b"].root, dep.barrier("after"), dep.env, parties=1, wait=60)
    loading, arrived = tmp_path / "after" / "loading", tmp_path / "after" / "arrived" / "b"
    while not arrived.exists() and waiting.poll() is None:
        time.sleep(0.02)
    time.sleep(2)
    assert not loading.exists() and waiting.poll() is None  # still waiting for A's lease
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    killed = time.monotonic()
    while not loading.exists() and waiting.poll() is None and time.monotonic() - killed < 30:
        time.sleep(0.02)
    through = time.monotonic() - killed
    code, out, err = finish(waiting)
    assert code == 0, err
    print(f"the next refresh went on {through:.2f} s after the kill")
    assert through < 3, f"the lease of the killed refresh held {through:.1f} s"
    result = json.loads(out.strip().splitlines()[-1])
    assert result["files"]["new"] + result["files"]["skipped_seen"] == len(dep.halves["b"])
    assert result["snapshot_id"] == "1" and result["files"]["new"] > 10


def test_the_embedded_catalog_takes_no_lease(tmp_path: Path) -> None:
    """A SQLite catalog never leaves its data dir: its file lock alone, no session opened."""
    from core.lake import catalog_session
    from pipelines.lake_write import writer_lock

    d = DataDir(tmp_path / "data").ensure()
    assert catalog_session(Settings(), d) is None
    held = writer_lock(Settings(), d, 0)
    try:
        assert held.lease is None and held.local.is_locked
    finally:
        held.release()
    assert not held.local.is_locked


def test_a_lease_lost_before_the_commit_publishes_nothing(
    postgres_server: Postgres, s3_server: S3, tmp_path: Path
) -> None:
    """The lease's connection ended while the refresh ran (an administrator's
    pg_terminate_backend, a server restart): another machine may have taken it since, so the
    refresh commits nothing and says why."""
    from pipelines.lake_write import LEASE_KEY

    dep = Deployment(tmp_path, postgres_server, s3_server, "lost_lease")
    p = start(dep.machines["a"].root, dep.barrier("lost"), dep.env, parties=1, wait=0, mode="pause")
    try:
        while not (tmp_path / "lost" / "holding").exists():
            assert p.poll() is None, p.communicate()[1]
            time.sleep(0.05)
        ended = dep.pg.sql(
            "lost_lease",
            "select count(pg_terminate_backend(pid)) from pg_locks where locktype = 'advisory' "
            f"and (classid::bigint << 32 | objid::bigint) = {LEASE_KEY}",
        )
        assert ended.strip() == "1"
        (tmp_path / "lost" / "go").touch()
        code, _out, err = finish(p)
    finally:
        p.kill()
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        f"PulseError: the lake's lease in its catalog ({dep.catalog}) was lost before the commit "
        "(its connection ended); not published, the lake stays as it was"
    )
    assert dep.pg.sql("lost_lease", "select count(*) from ducklake_snapshot").strip() == "1"  # its creation only


def test_a_migration_whose_lease_was_lost_commits_nothing(
    postgres_server: Postgres,
    s3_server: S3,
    legacy: Path,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pulse migrate` into a PostgreSQL catalog checks its lease before it commits, as the
    refresh does: the lease's connection ended while it imported, and the lake stays empty."""
    from pipelines import migrate as m
    from pipelines.lake_write import LEASE_KEY

    catalog = "postgres:" + postgres_server.create_database("lost_migration")
    data_path = s3_server.create_bucket("lost-migration") + "warehouse/"
    env = {"PULSE_CATALOG": catalog, "PULSE_DATA_PATH": data_path, **postgres_server.env, **s3_server.env}
    checked = m._check

    def then_end_the_lease(*args, **kwargs):
        checked(*args, **kwargs)
        ended = postgres_server.sql(
            "lost_migration",
            "select count(pg_terminate_backend(pid)) from pg_locks where locktype = 'advisory' "
            f"and (classid::bigint << 32 | objid::bigint) = {LEASE_KEY}",
        )
        assert ended.strip() == "1"

    monkeypatch.setattr(m, "_check", then_end_the_lease)
    d = DataDir(legacy / "data")
    with environ(env), pytest.raises(PulseError, match="lease in its catalog .* was lost before the commit"):
        m.migrate(Settings(), d)
    snapshots = postgres_server.sql("lost_migration", "select count(*) from ducklake_snapshot").strip()
    assert snapshots == "1"  # the lake's creation only: nothing migrated
    with environ(env):
        from core.lake import detach_lake

        detach_lake(Settings(), d)
