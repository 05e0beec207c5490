"""Writing to the lake, the parts every writer shares (the refresh, `pulse migrate`,
housekeeping): the one lock (and, on a shared catalog, the lease), the schema, the ledger check before a commit, and the crash
tests' fault points."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass

import duckdb
from filelock import FileLock, Timeout

from core import reasons
from core import reference as ref
from core.datadir import DataDir
from core.errors import PulseError
from core.lake import CatalogSession, catalog_session
from core.settings import Settings
from core.sqlfiles import sql

FAULT_ENV = "PULSE_FAULT_KILL_AT"  # test hook: SIGKILL this process at the named step
FAULT_DELAY_ENV = "PULSE_FAULT_DELAY_MS"  # with PULSE_FAULT_KILL_AT=in_commit: how long into the commit
FAULT_ONCE_ENV = "PULSE_FAULT_ONCE"  # with PULSE_FAULT_KILL_AT: die only where this file is made
IN_COMMIT = "in_commit"


def fault_point(name: str) -> None:
    """Die here, as `kill -9` would, when a crash test asks for it. `in_commit` dies while the
    commit runs: a timer started at `before_commit` kills the process PULSE_FAULT_DELAY_MS later.
    With PULSE_FAULT_ONCE (a file name) only the first process to get there dies: it makes the file."""
    at = os.environ.get(FAULT_ENV)
    if at == name and _first_to_die():
        os.kill(os.getpid(), signal.SIGKILL)
    elif at == IN_COMMIT and name == "before_commit":
        delay = float(os.environ.get(FAULT_DELAY_ENV, "1")) / 1000
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()


def _first_to_die() -> bool:
    if not (once := os.environ.get(FAULT_ONCE_ENV)):
        return True
    try:
        os.close(os.open(once, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


class RefreshBusy(PulseError):
    """Another refresh holds the lock (or, on a shared catalog, the lease)."""


def refresh_lock(d: DataDir, wait_seconds: float) -> FileLock:
    """The data dir's own lock (its landing zone, runs.jsonl, page cache): held for a whole
    refresh; released by the OS if the process dies. Writers take it with writer_lock."""
    lock = FileLock(d.warehouse / "refresh.lock")
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise RefreshBusy(
            f"another refresh is running on {d.root} (waited {wait_seconds:g} s); "
            "try again when it ends, or pass --wait SECONDS"
        ) from None
    return lock


# The lease: a PostgreSQL advisory lock of the catalog's database, one key for every writer of
# the lake, held by a transaction left open on its own connection (pg_try_advisory_xact_lock),
# so the server lets it go when the transaction ends: at release, or when the process dies
# (a killed process's connection closes and its backend ends at once).
LEASE_KEY = 0x70756C7365_4C  # 'pulseL'
LEASE_POLL_SECONDS = 0.2
_TRY_LEASE = f"select * from postgres_query($alias, 'select pg_try_advisory_xact_lock({LEASE_KEY}) as got')"
_held: dict[str, CatalogSession] = {}  # data dir -> the lease its writer holds (check_lease)


@dataclass
class WriterLock:
    """What a writer of the lake holds: its data dir's lock and, on a shared catalog, the lease."""

    local: FileLock
    lease: CatalogSession | None = None
    root: str = ""

    def release(self) -> None:
        try:
            if self.lease is not None:
                _held.pop(self.root, None)
                self.lease.close()
        finally:
            self.local.release()


def writer_lock(settings: Settings, d: DataDir, wait_seconds: float) -> WriterLock:
    """The refresh's lock, for every writer of the lake (the refresh, `pulse migrate`,
    housekeeping), taken before anything is read from the lake: the data dir's file lock, then,
    when the catalog is a PostgreSQL database that other machines may write, the catalog's
    lease, waited for up to `wait_seconds` in all. RefreshBusy when either stays taken."""
    started = time.monotonic()
    local = refresh_lock(d, wait_seconds)
    try:
        lease = catalog_lease(settings, d, wait_seconds, started)
    except BaseException:
        local.release()
        raise
    if lease is not None:
        _held[str(d.root)] = lease
    return WriterLock(local, lease, str(d.root))


def check_lease(d: DataDir) -> None:
    """Just before a commit: the lease d's writer took is still held (its connection may have
    been ended: a server restart, an administrator's pg_terminate_backend); PulseError, nothing
    committed, when not. Nothing to check without a lease (a SQLite catalog)."""
    session = _held.get(str(d.root))
    if session is None:
        return
    try:
        (held,) = session.con.execute(_TRY_LEASE, {"alias": session.alias}).fetchone()
    except duckdb.Error:
        held = False
    if not held:
        raise PulseError(
            f"the lake's lease in its catalog ({session.catalog}) was lost before the commit (its connection ended); "
            "not published, the lake stays as it was"
        )


def catalog_lease(settings: Settings, d: DataDir, wait_seconds: float, started: float) -> CatalogSession | None:
    """The lake's lease in its PostgreSQL catalog (None for a SQLite catalog: the file lock is
    enough on one machine), tried every LEASE_POLL_SECONDS until `wait_seconds` after `started`."""
    session = catalog_session(settings, d)
    if session is None:
        return None
    try:
        session.con.execute("begin")
        # a managed server may end sessions idle in a transaction: never this one's
        session.con.execute(
            "call postgres_execute($alias, 'set local idle_in_transaction_session_timeout = 0')",
            {"alias": session.alias},
        )
        while not session.con.execute(_TRY_LEASE, {"alias": session.alias}).fetchone()[0]:
            left = started + wait_seconds - time.monotonic()
            if left <= 0:
                raise RefreshBusy(
                    f"another refresh is writing the lake ({session.catalog}) (waited {wait_seconds:g} s); "
                    "try again when it ends, or pass --wait SECONDS"
                )
            time.sleep(min(LEASE_POLL_SECONDS, left))
    except BaseException:
        session.close()
        raise
    return session


# The lake's own options (kept in its catalog). zstd: data files about a fifth smaller than
# DuckLake's default snappy, at the same load time here (1M rows: 39.5 MB against 50.6 MB).
LAKE_OPTIONS = {"parquet_compression": "zstd"}


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The lake's options, then what staging needs (prepare_work), on con."""
    (alias,) = con.sql("select current_database()").fetchall()[0]
    have = dict(con.sql(f"select option_name, value from {alias}.options()").fetchall())
    for name, value in LAKE_OPTIONS.items():
        if have.get(name) != value:
            con.execute(f"call {alias}.set_option('{name}', '{value}')")
    prepare_work(con)


def prepare_work(con: duckdb.DuckDBPyConnection) -> None:
    """What staging a file needs on con (the lake's connection, or a stage worker's own
    in-memory database, pipelines/stage_file.py): the tables (pipelines/sql/schema.sql, empty
    on a worker: the shapes of its pending tables), the macros, the province lookup and the
    declared rejection reasons (core/reasons.py, for stage_quarantine.sql)."""
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
