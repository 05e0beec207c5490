"""Tests that plant rows into the warehouse (an alert incident, a damaged mart) do it here, in
one lake transaction, as a refresh would: `planted` commits it (a new snapshot the readers
see), `scratch` rolls it back (a what-if on what is published, never visible to anyone)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings, load_settings


@contextmanager
def _transaction(d: DataDir, settings: Settings | None, commit: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_lake(settings or load_settings(), d)
    try:
        con.execute("begin transaction")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit" if commit else "rollback")
    finally:
        con.close()


@contextmanager
def planted(d: DataDir, settings: Settings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the lake whose changes are committed at the end."""
    with _transaction(d, settings, commit=True) as con:
        yield con


@contextmanager
def scratch(d: DataDir, settings: Settings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the lake whose changes are rolled back at the end."""
    with _transaction(d, settings, commit=False) as con:
        yield con


def stored_databases(d: DataDir, settings: Settings | None = None) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
    """Every database the warehouse is stored in, opened for reading, one at a time: the lake
    (its Parquet files are compressed: read them through DuckDB) and each page cache file.
    Columns of the stored tables: `information_schema.columns` where `table_catalog =
    current_database()`."""
    con = connect_lake(settings or load_settings(), d)
    try:
        yield "lake", con
    finally:
        con.close()
    for path in sorted((d.root / "lake" / "cache").rglob("*.duckdb")):
        con = duckdb.connect(str(path), read_only=True)
        try:
            yield path.name, con
        finally:
            con.close()
