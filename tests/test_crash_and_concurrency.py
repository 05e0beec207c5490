"""All or nothing: SIGKILL at every step of a refresh, and readers while refreshes publish."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.settings import Settings
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.refresh import refresh
from queries.warehouse import published, published_snapshot_id
from tests.conftest import REPO

# Every step of a refresh (pipelines/refresh.py fault_point): before anything is written, inside
# the open lake transaction, at the commit and after it.
FAULT_POINTS = [
    "after_lock",
    "after_discover",
    "after_schema",
    "after_first_file",
    "before_count",
    "after_count",
    "after_marts",
    "after_releases",
    "after_alerts",
    "before_commit",
    "after_commit",
]
# Killed while the commit runs: a timer started at before_commit fires this many ms later.
IN_COMMIT_DELAYS_MS = ["0", "1", "2", "5"]
KEY = "crash-test-key-0123456789abcdef0123456789"
REFRESH_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipelines.refresh import refresh
    from core.datadir import DataDir
    from core.settings import Settings
    refresh(Settings(), DataDir(Path(sys.argv[1])), settle_seconds=0)
    """
)


def fingerprint(d: DataDir) -> dict[str, tuple]:
    """What a snapshot holds, in a form two runs can be compared by (order-free hashes)."""
    with published(d) as con:
        out = {}
        for stream in ("engagement", "referral", "safety"):
            out[stream] = con.sql(
                f"select count(*), count(distinct event_id), sum(hash(event_id, user_key, event_at)) from {stream}_events"
            ).fetchall()[0]
        out["quarantine"] = con.sql(
            "select count(*), sum(hash(file_path, line, reason)) from quarantine_rows"
        ).fetchall()[0]
        out["ledger"] = con.sql(
            "select count(*), sum(rows_loaded), sum(rows_duplicate), sum(rows_quarantined) from file_ledger"
        ).fetchall()[0]
        return out


def consistent(d: DataDir) -> tuple[int, ...]:
    """Open the published snapshot read-only; its rows must equal what its ledger accounts for."""
    with published(d) as con:
        counts = []
        for stream in ("engagement", "referral", "safety"):
            events = con.sql(f"select count(*) from {stream}_events").fetchall()[0][0]
            ledger = con.sql(
                "select coalesce(sum(rows_loaded), 0) from file_ledger where stream = $s", params={"s": stream}
            ).fetchall()[0][0]
            assert events == ledger
            counts.append(events)
        return tuple(counts)


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory):
    """Demo landing files split in two batches: A is published first, B arrives later."""
    src = DataDir(tmp_path_factory.mktemp("batches") / "src").ensure()
    manifest = write_demo_data(Settings(), src, DemoSpec(days=21, scale=0.1, seed=3, end=dt.date(2026, 11, 24)))
    files = sorted(str(p.relative_to(src.landing)) for p in src.landing.rglob("*") if p.is_file())
    assert len(files) == len(manifest["files"]) + 2
    return src, files[::2], files[1::2]


def land(src: DataDir, d: DataDir, files: list[str]) -> None:
    for rel in files:
        target = d.landing / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src.landing / rel, target)


@pytest.fixture(scope="module")
def reference(batches, tmp_path_factory: pytest.TempPathFactory):
    """The undisturbed run: A, then B."""
    src, a, b = batches
    os.environ["PULSE_HMAC_KEY"] = KEY
    d = DataDir(tmp_path_factory.mktemp("reference") / "data").ensure()
    land(src, d, a)
    refresh(Settings(), d, settle_seconds=0)
    after_a = consistent(d)
    land(src, d, b)
    refresh(Settings(), d, settle_seconds=0)
    yield after_a, consistent(d), fingerprint(d)
    del os.environ["PULSE_HMAC_KEY"]


@pytest.fixture(scope="module")
def published_a(batches, reference, tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A data dir with batch A published (snapshot 1), copied for every kill below: the lake's
    data path follows its data dir, so a copy is a lake of its own."""
    src, a, _ = batches
    d = DataDir(tmp_path_factory.mktemp("published-a") / "data").ensure()
    land(src, d, a)
    refresh(Settings(), d, settle_seconds=0)  # with the key the reference fixture set
    assert consistent(d) == reference[0]
    return d


def _kill_then_refresh(src, published_a: DataDir, b, d: DataDir, env: dict[str, str]) -> subprocess.CompletedProcess:
    shutil.copytree(published_a.root, d.root, dirs_exist_ok=True)
    land(src, d, b)
    return subprocess.run(
        [sys.executable, "-c", REFRESH_SCRIPT, str(d.root)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sigkill_at_every_step_leaves_a_whole_snapshot(
    batches, reference, published_a, tmp_path: Path, monkeypatch
) -> None:
    src, _, b = batches
    after_a, after_b, expected = reference
    assert after_a != after_b
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    for point in FAULT_POINTS:
        d = DataDir(tmp_path / point / "data").ensure()
        killed = _kill_then_refresh(src, published_a, b, d, {"PULSE_FAULT_KILL_AT": point})
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        # this process's reader sees the lake as it was, or whole after the commit
        expected_state = after_b if point == "after_commit" else after_a
        assert consistent(d) == expected_state, point
        assert published_snapshot_id(d) == ("2" if point == "after_commit" else "1"), point
        refresh(Settings(), d, settle_seconds=0)
        assert fingerprint(d) == expected, point


def test_sigkill_while_the_commit_runs_leaves_one_whole_snapshot(
    batches, reference, published_a, tmp_path: Path, monkeypatch
) -> None:
    src, _, b = batches
    after_a, after_b, expected = reference
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    seen = []
    for delay in IN_COMMIT_DELAYS_MS:
        d = DataDir(tmp_path / f"in-commit-{delay}" / "data").ensure()
        killed = _kill_then_refresh(
            src, published_a, b, d, {"PULSE_FAULT_KILL_AT": "in_commit", "PULSE_FAULT_DELAY_MS": delay}
        )
        assert killed.returncode == -signal.SIGKILL, (delay, killed.stderr[-2000:])
        state = consistent(d)  # the lake before the load or after it, never a part of it
        assert state in (after_a, after_b), delay
        assert published_snapshot_id(d) == ("2" if state == after_b else "1"), delay
        seen.append(state == after_b)
        refresh(Settings(), d, settle_seconds=0)
        assert fingerprint(d) == expected, delay
    print(f"in_commit delays {IN_COMMIT_DELAYS_MS} ms: committed {seen}")


READER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from core.datadir import DataDir
    from queries.pages import reader
    from queries.warehouse import published
    d = DataDir(Path(sys.argv[1]))
    stop = Path(sys.argv[2])  # reads until the test has published every refresh (at most 10 minutes)
    deadline = time.monotonic() + 600
    reads, errors, torn, snapshots = 0, [], 0, set()
    pages = sys.argv[3] == "pages"  # the dashboard's way: the snapshot's local cache of marts
    events_sql = "(select sum(count_events) from mart_engagement_daily)" if pages else "(select count(*) from engagement_events)"
    while time.monotonic() < deadline and not stop.exists():
        try:
            with (reader(d) if pages else published(d)) as con:
                events, ledger, load = con.sql(
                    f"select {events_sql},"
                    " (select sum(rows_loaded) from file_ledger where stream = 'engagement'),"
                    " (select max(load_id) from refresh_runs)"
                ).fetchall()[0]
            reads += 1
            torn += events != ledger
            snapshots.add(load)
        except Exception as e:
            errors.append(repr(e))
    print(json.dumps({"reads": reads, "errors": errors[:5], "n_errors": len(errors), "torn": torn,
                      "snapshots": len(snapshots)}))
    """
)


@pytest.mark.parametrize("way", ["published", "pages"])
def test_readers_never_see_half_a_load(batches, tmp_path: Path, way: str) -> None:
    src, a, b = batches
    d = DataDir(tmp_path / "data").ensure()
    land(src, d, a[:3])
    refresh(Settings(), d, settle_seconds=0)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(d.root), str(tmp_path / "stop"), way],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)  # the reader is up and reading
    published_ids = set()
    rest = a[3:] + b
    for i in range(0, len(rest), max(1, len(rest) // 8)):
        land(src, d, rest[i : i + max(1, len(rest) // 8)])
        published_ids.add(refresh(Settings(), d, settle_seconds=0).snapshot_id)
    (tmp_path / "stop").touch()
    out, _ = reader.communicate(timeout=60)
    seen = json.loads(out)
    assert seen["n_errors"] == 0, seen["errors"]
    assert seen["torn"] == 0
    assert seen["reads"] > 20  # a lake read transaction costs 40-180 ms here
    assert seen["snapshots"] >= 3  # it really read while snapshots were switched
    assert len(published_ids) >= 8
    assert published_snapshot_id(d) == str(1 + len(published_ids))
