"""Writing to the lake, the parts every writer shares (the refresh, `pulse migrate`,
housekeeping): the one lock, the schema, the ledger check before a commit, and the crash
tests' fault points."""

from __future__ import annotations

import os
import signal
import threading

import duckdb
from filelock import FileLock, Timeout

from core import reasons
from core import reference as ref
from core.datadir import DataDir
from core.errors import PulseError
from core.sqlfiles import sql

FAULT_ENV = "PULSE_FAULT_KILL_AT"  # test hook: SIGKILL this process at the named step
FAULT_DELAY_ENV = "PULSE_FAULT_DELAY_MS"  # with PULSE_FAULT_KILL_AT=in_commit: how long into the commit
IN_COMMIT = "in_commit"


def fault_point(name: str) -> None:
    """Die here, as `kill -9` would, when a crash test asks for it. `in_commit` dies while the
    commit runs: a timer started at `before_commit` kills the process PULSE_FAULT_DELAY_MS later."""
    at = os.environ.get(FAULT_ENV)
    if at == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif at == IN_COMMIT and name == "before_commit":
        delay = float(os.environ.get(FAULT_DELAY_ENV, "1")) / 1000
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()


class RefreshBusy(PulseError):
    """Another refresh holds the lock."""


def refresh_lock(d: DataDir, wait_seconds: float) -> FileLock:
    """Held for a whole refresh; released by the OS if the process dies."""
    lock = FileLock(d.warehouse / "refresh.lock")
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise RefreshBusy(
            f"another refresh is running on {d.root} (waited {wait_seconds:g} s); "
            "try again when it ends, or pass --wait SECONDS"
        ) from None
    return lock


# The lake's own options (kept in its catalog). zstd: data files about a fifth smaller than
# DuckLake's default snappy, at the same load time here (1M rows: 39.5 MB against 50.6 MB).
LAKE_OPTIONS = {"parquet_compression": "zstd"}


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The lake's options, tables (pipelines/sql/schema.sql), macros, the province lookup and the
    declared rejection reasons (core/reasons.py, for stage_quarantine.sql), on con."""
    (alias,) = con.sql("select current_database()").fetchall()[0]
    have = dict(con.sql(f"select option_name, value from {alias}.options()").fetchall())
    for name, value in LAKE_OPTIONS.items():
        if have.get(name) != value:
            con.execute(f"call {alias}.set_option('{name}', '{value}')")
    con.execute(sql("schema", "pipelines"))
    con.execute(sql("macros", "pipelines"))
    _temp_table(con, "province_lookup", ("key", "code"), ref.province_keys())
    _temp_table(con, "rejection_reasons", ("code", "field", "template"), reasons.rows())


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], rows: list) -> None:
    """A temp table of text columns holding `rows`, in one statement (an insert a row costs
    ~0.3 ms: 90 rows made 25 ms of every refresh)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    unnest = ", ".join(f"unnest(${c})::varchar as {c}" for c in columns)
    con.execute(
        f"create or replace temp table {name} as select {unnest}",
        {c: list(v) for c, v in zip(columns, cols, strict=True)},
    )


def check_counts(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Every stream's rows equal what its ledger accounts for, inside the transaction about to
    be committed; PulseError (nothing committed) when not."""
    counts = " union all ".join(
        f"select '{s}', (select count(*) from {s}_events), "
        f"(select coalesce(sum(rows_loaded), 0) from file_ledger where stream = '{s}')"
        for s in ref.STREAMS
    )
    for stream, events, ledger in con.sql(counts).fetchall():  # one statement: one look at the catalog
        if events != ledger:
            raise PulseError(
                f"snapshot {name}: {stream} has {events} rows but the ledger accounts for {ledger}; "
                "not published, the lake stays as it was"
            )
