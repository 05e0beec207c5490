"""The one place that opens DuckDB.

Each refresh publishes a new snapshot file `warehouse/pulse-<snapshot_id>.duckdb` and then
switches the pointer file `warehouse/CURRENT` (one line: the file name) with an atomic
rename. Readers resolve the pointer and open that file read-only, so a reader never sees
half a load and never blocks a refresh (DuckDB allows one writer or many readers of a
file, never both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from queries.datadir import DataDir
from queries.errors import PulseError
from queries.lake import connect_lake, lake_enabled, latest_snapshot_id

POINTER = "CURRENT"
SNAPSHOT_PREFIX = "pulse-"
SNAPSHOT_SUFFIX = ".duckdb"


class NothingPublished(PulseError):
    """No snapshot has been published in this data directory yet."""


def snapshot_path(d: DataDir, snapshot_id: str) -> Path:
    return d.warehouse / f"{SNAPSHOT_PREFIX}{snapshot_id}{SNAPSHOT_SUFFIX}"


def snapshot_id_of(path: Path) -> str:
    return path.name.removeprefix(SNAPSHOT_PREFIX).removesuffix(SNAPSHOT_SUFFIX)


def current_snapshot(d: DataDir) -> Path | None:
    """The published snapshot file, or None before the first refresh."""
    try:
        name = (d.warehouse / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return d.warehouse / name if name else None


def switch_pointer(d: DataDir, snapshot: Path) -> None:
    """Publish `snapshot`: write the pointer beside it, fsync, rename over the old one."""
    tmp = d.warehouse / f".{POINTER}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(snapshot.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, d.warehouse / POINTER)
    dir_fd = os.open(d.warehouse, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("set TimeZone = 'UTC'")  # parse and store in UTC; local days are computed explicitly
    return con


def connect_snapshot(path: Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open one snapshot file; read-only unless a refresh is building it."""
    config: dict[str, str | bool] = {}
    if not read_only:
        config = {
            "temp_directory": str(path.parent / f".{path.name}.tmp"),
            "memory_limit": "2GB",
            # rows of a table have no order (every read sorts what it shows): inserts go in
            # parallel and with less memory
            "preserve_insertion_order": False,
        }
    return _configure(duckdb.connect(str(path), read_only=read_only, config=config))


KEY_FINGERPRINT = "hmac_key_fingerprint"  # warehouse_meta's row for the HMAC key (pipelines.secrets)


def recorded_key_fingerprint(path: Path) -> str | None:
    """The fingerprint of the HMAC key a snapshot was built with; None for a snapshot
    published before fingerprints were recorded."""
    con = connect_snapshot(path)
    try:
        rows = con.execute("select value from warehouse_meta where name = ?", [KEY_FINGERPRINT]).fetchall()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    return rows[0][0] if rows else None


def published_key_fingerprint(d: DataDir) -> tuple[bool, str | None]:
    """Whether something is published, and the HMAC key fingerprint it records (None for a
    snapshot published before fingerprints were recorded)."""
    if lake_enabled():
        try:
            con = _open_lake(d)
        except NothingPublished:
            return False, None
        try:
            rows = con.execute("select value from warehouse_meta where name = ?", [KEY_FINGERPRINT]).fetchall()
        finally:
            con.close()
        return True, rows[0][0] if rows else None
    path = current_snapshot(d)
    return path is not None, recorded_key_fingerprint(path) if path else None


def open_published(d: DataDir, attempts: int = 3) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot. If the file the pointer named was
    pruned between reading the pointer and opening it, read the pointer again.
    On the lake (PULSE_WAREHOUSE_FORMAT=lake): a connection held in one transaction, so every
    query on it sees the latest snapshot committed when it was opened."""
    if lake_enabled():
        return _open_lake(d)
    for attempt in range(attempts):
        path = current_snapshot(d)
        if path is None:
            raise NothingPublished(f"nothing published yet in {d.root}; run 'pulse refresh' first")
        try:
            return connect_snapshot(path)
        except duckdb.IOException:
            if path.exists() or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _open_lake(d: DataDir) -> duckdb.DuckDBPyConnection:
    from queries.settings import load_settings

    con = connect_lake(load_settings(), d)
    try:
        if (
            latest_snapshot_id(con) is None
            or not con.sql(
                "select 1 from duckdb_tables() where database_name = current_database() and table_name = 'refresh_runs'"
            ).fetchall()
        ):
            raise NothingPublished(f"nothing published yet in {d.root}; run 'pulse refresh' first")
        con.execute("begin transaction")
    except BaseException:
        con.close()
        raise
    return con


def published_snapshot_id(d: DataDir) -> str | None:
    """The published snapshot's id: the lake's latest snapshot id, or the snapshot file's."""
    if lake_enabled():
        try:
            con = _open_lake(d)
        except NothingPublished:
            return None
        try:
            return str(latest_snapshot_id(con))
        finally:
            con.close()
    path = current_snapshot(d)
    return snapshot_id_of(path) if path else None


@contextmanager
def published(d: DataDir) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published snapshot, closed afterwards."""
    con = open_published(d)
    try:
        yield con
    finally:
        con.close()
