"""A per-snapshot local cache of the lake for the pages.

The pages read only the marts and a few small tables, never the event tables. A page query
on DuckLake pays for the catalog lookups and the Parquet reads of every query (2-4x a native
table here), so the first reader of a new snapshot copies those tables, as that snapshot
holds them, into a native DuckDB file `DATA_DIR/lake/cache/<lake>/snapshot-<id>.duckdb` (built
under a temporary name and renamed: readers never see half a cache), and every reader of that
snapshot opens the file read-only. `<lake>` names the catalog and data path: a reader of
another lake (PULSE_CATALOG) at the same snapshot number never opens this one's copy. The two newest cache files are kept (a dashboard session
may still be reading the one before), older ones removed; the cache can be deleted at any time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import threading
import uuid
from pathlib import Path

import duckdb

from core.datadir import DataDir
from core.lake import committed_snapshot, connect_lake, lake_location, lake_tables, latest_snapshot_id
from core.settings import Settings
from queries.warehouse import NothingPublished, connect_snapshot

KEEP = 2  # cache files kept: the latest snapshot's and the one before
CACHE_FILE = re.compile(r"^snapshot-(\d+)\.duckdb$")
BUILDING_FILE = re.compile(r"^\.snapshot-\d+\.duckdb(\.\d+)+$")  # .snapshot-N.duckdb.<pid>.<thread>
EVENT_TABLES = ("engagement_events", "referral_events", "safety_events")  # never copied: the pages read marts


def cached_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the lake but the event tables (marts, releases, ledger, alerts, runs):
    a table added to the schema is in the cache without a list to keep up to date."""
    return sorted(lake_tables(con) - set(EVENT_TABLES))


def cache_root(d: DataDir) -> Path:
    return d.root / "lake" / "cache"


def cache_dir(settings: Settings, d: DataDir) -> Path:
    """This lake's cache folder: one per catalog and data path."""
    where = lake_location(settings, d)
    return cache_root(d) / hashlib.sha256(f"{where.catalog}\n{where.data_path}".encode()).hexdigest()[:12]


def snapshot_cache(settings: Settings, d: DataDir, snapshot: str | None = None) -> tuple[str, Path]:
    """Snapshot `snapshot`'s id and cache file when that file is there, else the latest
    snapshot's, built now if this is its first reader."""
    if snapshot is not None and (path := cache_dir(settings, d) / f"snapshot-{snapshot}.duckdb").exists():
        return snapshot, path
    while True:
        con = connect_lake(settings, d)
        try:
            snapshot = str(latest_snapshot_id(con))
            path = cache_dir(settings, d) / f"snapshot-{snapshot}.duckdb"
            if path.exists() or _build(con, d, snapshot, path):
                break
        finally:
            con.close()
    _prune(path.parent)
    return snapshot, path


def _build(con: duckdb.DuckDBPyConnection, d: DataDir, snapshot: str, path: Path) -> bool:
    """Copy snapshot `snapshot`'s tables into `path`; False if a refresh committed meanwhile."""
    if "refresh_runs" not in cached_tables(con):  # tables only ever appear: no race here
        raise NothingPublished(f"nothing published yet in {d.root}; run 'pulse refresh' first")
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    building.unlink(missing_ok=True)
    alias = f"cache_{uuid.uuid4().hex[:12]}"  # attached databases are the process's: one per build
    con.execute("attach '{}' as {}".format(str(building).replace("'", "''"), alias))
    try:
        try:
            con.execute("begin transaction")  # the copied rows are of one snapshot: the one named
            if str(latest_snapshot_id(con)) != snapshot:
                con.execute("rollback")
                return False
            for table in cached_tables(con):
                con.execute(f'create table {alias}."{table}" as select * from "{table}"')
            con.execute("commit")
        finally:
            con.execute(f"detach {alias}")
        os.replace(building, path)  # two builders of one snapshot: readers see one whole file or the other
        return True
    finally:
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)


def _prune(folder: Path) -> int:
    """All but the KEEP newest cache files of one lake's folder (a reader that has one open keeps
    reading it: POSIX)."""
    files = sorted((int(m[1]), p) for p in folder.iterdir() if (m := CACHE_FILE.match(p.name)) is not None)
    for _, old in files[:-KEEP]:
        old.unlink(missing_ok=True)
    return max(0, len(files) - KEEP)


def open_cached(settings: Settings, d: DataDir) -> duckdb.DuckDBPyConnection:
    """A read-only native connection to the latest snapshot's cache."""
    snapshot = committed_snapshot(settings, d)
    path = cache_dir(settings, d) / f"snapshot-{snapshot}.duckdb"
    if snapshot is None or not path.exists():
        _, path = snapshot_cache(settings, d)
    return connect_snapshot(path)


def prune_cache(d: DataDir, building_before: dt.datetime) -> int:
    """Remove the cache files of all but the KEEP newest snapshots and the temporary files of
    builders that started before `building_before` (a live builder takes seconds; a dead one
    left its file behind). A reader that has a removed file open keeps reading it (POSIX).
    Returns how many files were removed."""
    root = cache_root(d)
    if not root.is_dir():
        return 0
    removed = 0
    for folder in (p for p in root.iterdir() if p.is_dir()):
        removed += _prune(folder)
        for p in folder.iterdir():
            if BUILDING_FILE.match(p.name) is not None and p.stat().st_mtime < building_before.timestamp():
                p.unlink(missing_ok=True)
                removed += 1
    return removed
