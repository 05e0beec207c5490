"""Where the warehouse is opened for reading (the lake itself is attached by core/lake.py).

The warehouse is a DuckLake (core/lake.py): each refresh commits one transaction, which is
the lake's next snapshot. A reader holds one transaction, so every query of a `with
published(d)` block sees one whole snapshot, the latest committed when it began, and a
refresh committing meanwhile never blocks it. `connect_snapshot` opens a native DuckDB file
read-only: the pages' per-snapshot cache (queries/lake_cache.py) and, for `pulse migrate`,
release 1's snapshot files (`warehouse/CURRENT` naming `pulse-<id>.duckdb`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import committed_snapshot, connect_lake, lake_tables, latest_snapshot_id
from core.settings import Settings, load_settings

LEGACY_POINTER = "CURRENT"  # release 1: the published snapshot file's name
KEY_FINGERPRINT = "hmac_key_fingerprint"  # warehouse_meta's row for the HMAC key (pipelines.secrets)


class NothingPublished(PulseError):
    """No snapshot has been published in this data directory yet."""


def legacy_snapshot(d: DataDir) -> Path | None:
    """Release 1's published snapshot file (before the lake), or None."""
    try:
        name = (d.warehouse / LEGACY_POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return d.warehouse / name if name else None


def connect_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a native DuckDB file read-only, in UTC."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set TimeZone = 'UTC'")  # local days are computed explicitly
    return con


def published_key_fingerprint(d: DataDir, settings: Settings | None = None) -> tuple[bool, str | None]:
    """Whether something is published, and the HMAC key fingerprint it records (None for a
    warehouse published before fingerprints were recorded)."""
    try:
        con = open_published(d, settings)
    except NothingPublished:
        return False, None
    try:
        rows = con.execute("select value from warehouse_meta where name = ?", [KEY_FINGERPRINT]).fetchall()
    except duckdb.CatalogException:  # a lake made before warehouse_meta existed: nothing recorded
        rows = []
    finally:
        con.close()
    return True, rows[0][0] if rows else None


def open_published(d: DataDir, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """A read connection held in one transaction: every query on it sees the latest snapshot
    committed when it was opened. NothingPublished before the first refresh. The lake is the
    one `settings` name (by default the config's: PULSE_CONFIG or ./campaign.toml)."""
    con = connect_lake(settings or load_settings(), d)
    try:
        con.execute("begin transaction")
        if "refresh_runs" not in lake_tables(con):
            raise NothingPublished(f"nothing published yet in {d.root}; run 'pulse refresh' first")
    except BaseException:
        con.close()
        raise
    return con


def published_snapshot_id(d: DataDir, settings: Settings | None = None) -> str | None:
    """The lake's latest snapshot id, None before the first refresh. Read straight from a
    SQLite catalog (0.05 ms; a DuckLake transaction for the same answer costs 40-180 ms)."""
    snapshot = committed_snapshot(settings or load_settings(), d)
    if snapshot is not None:
        return None if snapshot == "0" else snapshot  # 0: the empty lake DuckLake creates
    try:
        con = open_published(d, settings)
    except NothingPublished:
        return None
    try:
        return str(latest_snapshot_id(con))
    finally:
        con.close()


@contextmanager
def published(d: DataDir, settings: Settings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read connection to the latest published snapshot, closed afterwards."""
    con = open_published(d, settings)
    try:
        yield con
    finally:
        con.close()
