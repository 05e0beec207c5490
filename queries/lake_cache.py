"""A per-snapshot local cache of the lake for the pages (issue 16, stage 1 prototype).

The pages read only the marts and a few small tables, never the event tables. A page query
on DuckLake pays for the catalog lookups and the Parquet reads of every query (2-4x a native
table here), so the first reader of a new snapshot copies those tables, as that snapshot
holds them, into a native DuckDB file `DATA_DIR/lake/cache/snapshot-<id>.duckdb` (built under
a temporary name and renamed: readers never see half a cache), and every reader of that
snapshot opens the file read-only. Older cache files are removed once a newer one exists;
the cache can be deleted at any time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from pathlib import Path

import duckdb

from queries.datadir import DataDir
from queries.lake import connect_lake, lake_location, latest_snapshot_id
from queries.settings import Settings
from queries.warehouse import connect_snapshot

CACHE_FILE = re.compile(r"^snapshot-(\d+)\.duckdb$")
BUILDING_FILE = re.compile(r"^\.snapshot-\d+\.duckdb\.\d+$")
EVENT_TABLES = ("engagement_events", "referral_events", "safety_events")  # never copied: the pages read marts


def cached_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the lake but the event tables (marts, releases, ledger, alerts, runs):
    a table added to the schema is in the cache without a list to keep up to date."""
    rows = con.sql(
        "select table_name from duckdb_tables() where database_name = current_database() order by table_name"
    ).fetchall()
    return [name for (name,) in rows if name not in EVENT_TABLES]


def cache_dir(d: DataDir) -> Path:
    return d.root / "lake" / "cache"


def snapshot_cache(settings: Settings, d: DataDir) -> tuple[str, Path]:
    """The latest snapshot's id and its cache file, built now if this is its first reader."""
    con = connect_lake(settings, d)
    try:
        snapshot = str(latest_snapshot_id(con))
        path = cache_dir(d) / f"snapshot-{snapshot}.duckdb"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            building = path.with_name(f".{path.name}.{os.getpid()}")
            building.unlink(missing_ok=True)
            con.execute(f"attach '{building}' as snapshot_cache")
            try:
                con.execute("begin transaction")  # the copied rows are of one snapshot: the one named
                if str(latest_snapshot_id(con)) != snapshot:  # a refresh committed meanwhile: the next reader
                    con.execute("rollback")
                    return snapshot_cache(settings, d)
                for table in cached_tables(con):
                    con.execute(f"create table snapshot_cache.{table} as select * from {table}")
                con.execute("commit")
            finally:
                con.execute("detach snapshot_cache")
            os.replace(building, path)
    finally:
        con.close()
    for old in cache_dir(d).glob("snapshot-*.duckdb"):
        if old != path and old.stat().st_mtime <= path.stat().st_mtime:
            old.unlink(missing_ok=True)  # a reader that has it open keeps reading it (POSIX)
    return snapshot, path


def committed_snapshot(settings: Settings, d: DataDir) -> str | None:
    """The latest committed snapshot id read straight from a SQLite catalog (0.05 ms, where a
    DuckLake transaction costs 40-180 ms on a busy machine); None for another catalog."""
    where = lake_location(settings, d)
    if not where.catalog.startswith("sqlite:"):
        return None
    try:
        db = sqlite3.connect(f"file:{where.catalog.removeprefix('sqlite:')}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        (snapshot,) = db.execute("select max(snapshot_id) from ducklake_snapshot").fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return None if snapshot is None else str(snapshot)


def open_cached(settings: Settings, d: DataDir) -> duckdb.DuckDBPyConnection:
    """A read-only native connection to the latest snapshot's cache."""
    snapshot = committed_snapshot(settings, d)
    path = cache_dir(d) / f"snapshot-{snapshot}.duckdb"
    if snapshot is None or not path.exists():
        _, path = snapshot_cache(settings, d)
    return connect_snapshot(path)


def prune_cache(settings: Settings, d: DataDir, building_before: dt.datetime) -> int:
    """Remove the cache files of snapshots older than the latest and the temporary files of
    builders that started before `building_before` (a live builder takes seconds; a dead one
    left its file behind). A reader that has a removed file open keeps reading it (POSIX).
    Returns how many files were removed."""
    folder = cache_dir(d)
    if not folder.is_dir():
        return 0
    con = connect_lake(settings, d)
    try:
        latest = latest_snapshot_id(con)
    finally:
        con.close()
    removed = 0
    for p in folder.iterdir():
        old = (m := CACHE_FILE.match(p.name)) is not None and latest is not None and int(m[1]) < latest
        dead = BUILDING_FILE.match(p.name) is not None and p.stat().st_mtime < building_before.timestamp()
        if old or dead:
            p.unlink(missing_ok=True)
            removed += 1
    return removed
