"""The refresh committing into DuckLake in one transaction (issue 16, stage 1 prototype,
PULSE_WAREHOUSE_FORMAT=lake): the same rows as the snapshot files, and all or nothing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipelines.refresh import run_refresh
from queries.datadir import DataDir
from queries.lake import connect_lake
from queries.settings import Settings
from queries.warehouse import current_snapshot, published_snapshot_id
from tests.conftest import REPO
from tests.test_crash_and_concurrency import KEY, REFRESH_SCRIPT, batches, consistent, fingerprint, land

__all__ = ["batches"]  # the module fixture, shared with the snapshot-file crash tests
LAKE_FAULT_POINTS = ["after_schema", "after_first_file", "after_marts", "before_commit", "after_commit"]


@pytest.fixture(scope="module")
def both(batches, tmp_path_factory: pytest.TempPathFactory):
    """A then B, refreshed into snapshot files and into the lake: their fingerprints."""
    src, a, b = batches
    os.environ["PULSE_HMAC_KEY"] = KEY
    out = {}
    try:
        for kind in ("files", "lake"):
            if kind == "lake":
                os.environ["PULSE_WAREHOUSE_FORMAT"] = "lake"
            d = DataDir(tmp_path_factory.mktemp(kind) / "data").ensure()
            land(src, d, a)
            run_refresh(Settings(), d, settle_seconds=0)
            after_a = consistent(d)
            land(src, d, b)
            run_refresh(Settings(), d, settle_seconds=0)
            out[kind] = (after_a, consistent(d), fingerprint(d), d)
    finally:
        os.environ.pop("PULSE_WAREHOUSE_FORMAT", None)
        os.environ.pop("PULSE_HMAC_KEY", None)
    return out


def test_the_lake_holds_what_the_snapshot_files_hold(both) -> None:
    files, lake = both["files"], both["lake"]
    assert lake[:2] == files[:2]  # rows per stream after A, after B
    for part in ("quarantine", "ledger"):
        assert lake[2][part] == files[2][part]
    d = lake[3]
    assert not list(d.warehouse.glob("pulse-*.duckdb"))  # no snapshot file: the lake is the warehouse
    con = connect_lake(Settings(), d)
    try:
        commits = con.sql(
            "select snapshot_id, commit_message from ducklake_snapshots(current_database()) order by 1"
        ).fetchall()
        con.execute(f"attach '{current_snapshot(files[3])}' as snapshot_file (read_only)")
        for stream in ("engagement", "referral", "safety"):  # the same events, with the same 128-bit keys
            differ = con.sql(
                f"select count(*) from (select event_id, replace(user_key::varchar, '-', ''), event_at, province "
                f"from {stream}_events except select event_id, format('{{:032x}}', user_key), event_at, province "
                f"from snapshot_file.{stream}_events)"
            ).fetchall()[0][0]
            assert differ == 0, stream
    finally:
        con.close()
    # snapshot 0 is the lake's creation; each refresh is one commit, and its id is the snapshot id
    assert [s for s, _ in commits] == [0, 1, 2]
    assert all(m.startswith("load ") for _, m in commits[1:])


def test_readers_see_the_latest_committed_snapshot(both, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_WAREHOUSE_FORMAT", "lake")
    assert published_snapshot_id(both["lake"][3]) == "2"
    monkeypatch.delenv("PULSE_WAREHOUSE_FORMAT")
    assert published_snapshot_id(both["lake"][3]) is None  # the snapshot files' reader finds none there


def test_sigkill_at_every_step_leaves_the_lake_whole(batches, both, tmp_path: Path, monkeypatch) -> None:
    src, a, b = batches
    after_a, after_b, expected, _ = both["lake"]
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    monkeypatch.setenv("PULSE_WAREHOUSE_FORMAT", "lake")
    for point in LAKE_FAULT_POINTS:
        d = DataDir(tmp_path / point / "data").ensure()
        land(src, d, a)
        run_refresh(Settings(), d, settle_seconds=0)
        land(src, d, b)
        killed = subprocess.run(
            [sys.executable, "-c", REFRESH_SCRIPT, str(d.root)],
            cwd=REPO,
            env={**os.environ, "PULSE_FAULT_KILL_AT": point},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        # this process's reader picks up what the killed one committed, or sees the lake as it was
        assert consistent(d) == (after_b if point == "after_commit" else after_a), point
        run_refresh(Settings(), d, settle_seconds=0)
        assert fingerprint(d) == expected, point


@pytest.mark.parametrize("cache", ["1", "0"])
def test_pages_read_the_same_figures_from_the_lake(both, cache: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page query gives the same frame on the snapshot files, on the lake and on the
    lake's per-snapshot cache (built by the first reader of snapshot 2)."""
    from benchmarks.pages import PAGE_QUERIES
    from queries import pages as q
    from queries.filters import Filters

    s = Settings()
    f = Filters(s.launch, dt.date(2026, 11, 24))

    def frames(d: DataDir) -> list:
        out: list = []
        with q.reader(d) as con:
            for page, run in PAGE_QUERIES.items():
                res = run(con, s, f)
                for r in res if isinstance(res, list | tuple) else [res]:
                    if isinstance(r, pl.DataFrame):  # when a file was processed differs from run to run
                        r = r.drop("processed_at", strict=False).sort(r.drop("processed_at", strict=False).columns)
                    out.append((page, r))
        return out

    expected = frames(both["files"][3])
    monkeypatch.setenv("PULSE_WAREHOUSE_FORMAT", "lake")
    monkeypatch.setenv("PULSE_LAKE_CACHE", cache)
    got = frames(both["lake"][3])
    assert len(got) == len(expected) == 19
    for (page, g), (_, e) in zip(got, expected, strict=True):
        assert g.equals(e) if isinstance(g, pl.DataFrame) else g == e, page
    cached = sorted(p.name for p in (both["lake"][3].root / "lake" / "cache").glob("snapshot-*.duckdb"))
    assert cached == (["snapshot-2.duckdb"] if cache == "1" else cached)


def test_another_hmac_key_stops_a_refresh_of_the_lake(both, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key guard reads the fingerprint the lake records, as it does a snapshot file's."""
    from pipelines.secrets import HmacKeyError, fingerprint

    d = both["lake"][3]
    monkeypatch.setenv("PULSE_WAREHOUSE_FORMAT", "lake")
    monkeypatch.setenv("PULSE_HMAC_KEY", "another-key-0123456789abcdef0123456789ab")
    (d.landing / "engagement" / "late.csv").write_text("event_id,event_time,user_id,event_type\n")
    with pytest.raises(HmacKeyError) as e:
        run_refresh(Settings(), d, settle_seconds=0)
    assert f"(fingerprint {fingerprint(KEY.encode())}, this key's " in str(e.value)
