"""Housekeeping of the lake (issue 16): a killed refresh's orphan Parquet files removed,
snapshots older than `warehouse.keep_days` expired (the latest and newer ones kept), small
files merged, old page-cache files removed, and every table reads the same afterwards."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from pipelines.housekeeping import prune_data_dir
from pipelines.refresh import refresh
from queries.lake_cache import cache_dir, open_cached
from tests.conftest import REPO
from tests.test_crash_and_concurrency import KEY, REFRESH_SCRIPT, batches, consistent, fingerprint, land

__all__ = ["batches"]  # the module fixture of the crash tests: demo landing files in two batches
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def lake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)


def data_files(d: DataDir) -> set[Path]:
    return {p for p in (d.root / "lake" / "data").rglob("*") if p.is_file()}


def table_counts(d: DataDir) -> dict[str, int]:
    """Rows of every table of the lake's latest snapshot."""
    con = connect_lake(Settings(), d)
    try:
        names = [
            n
            for (n,) in con.sql(
                "select table_name from duckdb_tables() where database_name = current_database() order by 1"
            ).fetchall()
        ]
        return {n: con.sql(f"select count(*) from {n}").fetchall()[0][0] for n in names}
    finally:
        con.close()


def snapshots(d: DataDir) -> list[tuple[int, dt.datetime]]:
    con = connect_lake(Settings(), d)
    try:
        return con.sql(
            "select snapshot_id, snapshot_time from ducklake_snapshots(current_database()) order by 1"
        ).fetchall()
    finally:
        con.close()


def test_orphans_of_a_killed_refresh_are_removed_and_the_lake_reads_the_same(batches, tmp_path: Path) -> None:
    src, a, b = batches
    d = DataDir(tmp_path / "data").ensure()
    for part in (a[::2], a[1::2]):  # snapshots 1 and 2: two data files a table, to merge
        land(src, d, part)
        refresh(Settings(), d, settle_seconds=0)
    committed = data_files(d)
    open_cached(Settings(), d)  # a reader of snapshot 2 builds its page cache
    land(src, d, b)
    killed = subprocess.run(
        [sys.executable, "-c", REFRESH_SCRIPT, str(d.root)],
        cwd=REPO,
        env={**os.environ, "PULSE_FAULT_KILL_AT": "before_commit"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    orphans = data_files(d) - committed
    assert len(orphans) > 10  # events, marts, user numbers of the load that never committed
    counts, before = table_counts(d), fingerprint(d)

    pruned = prune_data_dir(Settings(), d)

    assert pruned["orphans_removed"] == len(orphans)
    assert not any(p.exists() for p in orphans)
    assert pruned["snapshots_expired"] == 0  # every snapshot is seconds old: kept 30 days
    assert table_counts(d) == counts and fingerprint(d) == before
    # snapshots 1 and 2's files merged, in snapshot 3; the cache of 2 stays: the two newest
    # cache files are kept (a dashboard session may still read the one before the latest)
    assert pruned["files_merged"] > 0 and [s for s, _ in snapshots(d)] == [0, 1, 2, 3]
    assert pruned["cache_files_removed"] == 0 and sorted(p.name for p in cache_dir(Settings(), d).iterdir()) == [
        "snapshot-2.duckdb"
    ]

    # the next refresh loads B whole (snapshot 4); then a dead builder's file goes, the two newest stay
    open_cached(Settings(), d)
    refresh(Settings(), d, settle_seconds=0)
    after_b = consistent(d)
    assert sorted(p.name for p in cache_dir(Settings(), d).iterdir()) == ["snapshot-2.duckdb", "snapshot-3.duckdb"]
    dead = cache_dir(Settings(), d) / ".snapshot-3.duckdb.4242"
    dead.write_bytes(b"half a cache")
    os.utime(dead, (time.time() - 7200, time.time() - 7200))
    building = (
        cache_dir(Settings(), d) / f".snapshot-4.duckdb.{os.getpid()}"
    )  # a reader building the latest's cache now
    building.write_bytes(b"being built")
    open_cached(Settings(), d)  # a reader of snapshot 4: its cache, and 2's goes (two newest kept)
    assert sorted(p.name for p in cache_dir(Settings(), d).iterdir()) == sorted(
        [dead.name, building.name, "snapshot-3.duckdb", "snapshot-4.duckdb"]
    )
    pruned = prune_data_dir(Settings(), d)
    assert pruned["cache_files_removed"] == 1  # the dead builder's, two hours old
    assert sorted(p.name for p in cache_dir(Settings(), d).iterdir()) == sorted(
        [building.name, "snapshot-3.duckdb", "snapshot-4.duckdb"]
    )
    assert pruned["orphans_removed"] == 0
    assert consistent(d) == after_b


def test_snapshots_older_than_keep_days_expire_and_small_files_merge(batches, tmp_path: Path) -> None:
    src, a, b = batches
    d = DataDir(tmp_path / "data").ensure()
    for part in (a, b[::2], b[1::2]):  # three refreshes: snapshots 1, 2 and 3
        land(src, d, part)
        refresh(Settings(), d, settle_seconds=0)
    times = dict(snapshots(d))
    assert sorted(times) == [0, 1, 2, 3]
    con = connect_lake(Settings(), d)
    try:
        at_2 = con.sql("select count(*) from engagement_events at (version => 2)").fetchall()[0][0]
    finally:
        con.close()
    counts, before, on_disk = table_counts(d), fingerprint(d), data_files(d)

    # 30 days after snapshot 2 (less a millisecond): 0 and 1 are older than keep_days, 2 and 3 are not
    now = times[2] + 30 * DAY - dt.timedelta(milliseconds=1)
    pruned = prune_data_dir(Settings(), d, now=now)

    assert pruned["snapshots_expired"] == 2
    kept = [s for s, _ in snapshots(d)]
    assert kept[:2] == [2, 3] and len(kept) == 3  # and the merge's own snapshot, the latest now
    assert pruned["files_merged"] > 0 and pruned["files_removed"] > 0
    assert len(data_files(d)) < len(on_disk)
    assert table_counts(d) == counts and fingerprint(d) == before
    con = connect_lake(Settings(), d)
    try:
        assert con.sql("select count(*) from engagement_events at (version => 2)").fetchall()[0][0] == at_2
        with pytest.raises(duckdb.Error, match="snapshot"):
            con.sql("select count(*) from engagement_events at (version => 1)").fetchall()
    finally:
        con.close()
    assert Settings().warehouse.keep_days == 30
