"""`pulse migrate`: carry a data dir's published snapshot file (`warehouse/CURRENT`, the
warehouse of release 1) into the lake, once, in one DuckLake transaction.

The snapshot file is read with the installed DuckDB when it can (read-only); a file written
by a newer DuckDB (release 1 wrote duckdb 2.0.1 files, which 1.5.5 refuses) is exported by
`pipelines/legacy_export.py` run with that DuckDB through uv (`uv run --no-project --with
duckdb==2.0.1`). Both ways give one Parquet file per table and a manifest (row counts,
columns, distinct 128-bit keys, a digest of partner_releases). The import creates the lake's
schema with the writers' own `lake_write.prepare` (user_key is a UUID there), inserts every table,
and before it commits checks each table's count, the distinct keys, the ledger against the
events and that partner_releases is row for row what it was. The commit records
`warehouse_meta` 'migrated_from' = the snapshot's file name, so it never runs twice. The
snapshot files stay where they are (remove them once the lake is checked).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import connect_lake, lake_location, latest_snapshot_id
from core.settings import Settings
from core.sqlfiles import mart_names
from pipelines import legacy_export
from pipelines.lake_write import check_counts, check_lease, fault_point, prepare, writer_lock
from queries.warehouse import legacy_snapshot

MIGRATED_FROM = "migrated_from"  # warehouse_meta's row: the snapshot file the lake was migrated from
LEGACY_DUCKDB = "2.0.1"  # the DuckDB release 1 wrote its snapshot files with
UV_ENV = "PULSE_UV"
PROJECT = Path(__file__).resolve().parent.parent
EXPORTER = Path(legacy_export.__file__).resolve()
EXPORT_PREFIX = ".migrate-"  # DATA_DIR/warehouse/.migrate-*: the snapshot's tables as Parquet, while it runs
log = logging.getLogger("pulse.migrate")
TOO_NEW = "Trying to read a database file with version number"  # DuckDB's refusal of a newer file


@dataclass
class MigrationResult:
    status: str  # migrated | already | nothing
    message: str
    data_dir: str
    snapshot: str | None = None  # the legacy snapshot file's name
    lake_snapshot_id: str | None = None  # the lake's snapshot the migration committed
    read_with: str | None = None  # the DuckDB that read the snapshot file
    tables: dict[str, int] = field(default_factory=dict)  # rows per table carried over
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def migrate(settings: Settings, d: DataDir, *, wait_seconds: float = 0) -> MigrationResult:
    """`pulse migrate`: under the refresh lock, carry the published snapshot file into the lake."""
    lock = writer_lock(settings, d, wait_seconds)
    try:
        return _migrate(settings, d, refuse_mixing=True)  # type: ignore[return-value]
    finally:
        lock.release()


def migrate_if_needed(settings: Settings, d: DataDir) -> MigrationResult | None:
    """The first refresh after the upgrade (call it with the refresh lock held, before
    discovery, so the ledger comes over first): migrate when a snapshot file is published
    and the lake holds neither a migration nor a refresh; else None, at the cost of reading
    `warehouse/CURRENT` and, when it exists, one small lake query (two on a lake never migrated)."""
    if legacy_snapshot(d) is None:
        return None
    result = _migrate(settings, d, refuse_mixing=False)
    if result is not None:
        log.info("%s", result.message)
    return result


def _migrate(settings: Settings, d: DataDir, *, refuse_mixing: bool) -> MigrationResult | None:
    started = time.perf_counter()
    snapshot = legacy_snapshot(d)
    if snapshot is None:
        return MigrationResult(
            "nothing", f"no legacy warehouse in {d.root} (no warehouse/CURRENT): nothing to migrate", str(d.root)
        )
    if not snapshot.is_file():
        raise PulseError(f"warehouse/CURRENT names {snapshot.name}, which is not in {d.warehouse}; nothing migrated")
    con = connect_lake(settings, d)
    try:
        migrated_from, runs = _lake_state(con)
        if migrated_from is not None:
            if not refuse_mixing:
                return None
            return MigrationResult(
                "already",
                f"the lake was already migrated from {migrated_from}; nothing done",
                str(d.root),
                snapshot=migrated_from,
                lake_snapshot_id=str(latest_snapshot_id(con)),
            )
        if runs:
            if not refuse_mixing:
                return None  # the lake is already the warehouse (built by refreshes)
            raise PulseError(
                f"the lake ({lake_location(settings, d).catalog}) already holds {runs} published "
                f"refresh{'es' if runs > 1 else ''}; {snapshot.name} is not migrated into it (the two would mix)"
            )
        for left in d.warehouse.glob(f"{EXPORT_PREFIX}*"):  # a killed migration's export (the lock is ours)
            shutil.rmtree(left, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix=EXPORT_PREFIX, dir=d.warehouse) as tmp:
            manifest, read_with = _export(snapshot, Path(tmp))
            con.execute("begin transaction")
            tables = _import(con, manifest, Path(tmp), snapshot.name)
            _check(con, manifest, snapshot.name)
            con.execute(
                "insert into warehouse_meta values ($name, $value)", {"name": MIGRATED_FROM, "value": snapshot.name}
            )
            (alias,) = con.sql("select current_database()").fetchall()[0]
            con.execute(
                f"call {alias}.set_commit_message('pulse migrate', 'pulse migrate', extra_info => $info)",
                {"info": json.dumps({MIGRATED_FROM: snapshot.name, "read_with": read_with})},
            )
            check_lease(d)  # another machine may be writing since a lost lease: never commit then
            fault_point("migrate_before_commit")
            con.execute("commit")
            lake_snapshot = str(latest_snapshot_id(con))
    except duckdb.Error as e:
        raise PulseError(f"migrating {snapshot.name}: {str(e).splitlines()[0]}; nothing migrated") from None
    finally:
        con.close()
    return MigrationResult(
        "migrated",
        f"migrated {snapshot.name} into the lake (snapshot {lake_snapshot}): {len(tables)} tables, "
        f"{sum(tables.values()):,} rows; the snapshot files stay in {d.warehouse}",
        str(d.root),
        snapshot=snapshot.name,
        lake_snapshot_id=lake_snapshot,
        read_with=read_with,
        tables=tables,
        seconds=round(time.perf_counter() - started, 3),
    )


def _lake_state(con: duckdb.DuckDBPyConnection) -> tuple[str | None, int]:
    """The snapshot the lake was migrated from (or None), and its number of published
    refreshes (counted only when it was not migrated: one query on a migrated lake, 45 ms)."""
    try:
        migrated = con.execute("select max(value) from warehouse_meta where name = ?", [MIGRATED_FROM]).fetchall()[0][0]
    except duckdb.CatalogException:  # an empty lake: no table yet
        return None, 0
    if migrated is not None:
        return migrated, 0
    try:
        return None, con.sql("select count(*) from refresh_runs").fetchall()[0][0]
    except duckdb.CatalogException:
        return None, 0


# --- reading the snapshot file ----------------------------------------------------------


def _export(snapshot: Path, outdir: Path) -> tuple[dict[str, Any], str]:
    """Every table of the snapshot as Parquet in outdir, and the manifest: with this DuckDB
    when it can open the file, else with the one that wrote it (through uv)."""
    try:
        con = duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error as e:
        if TOO_NEW not in str(e):
            raise PulseError(f"{snapshot}: not readable: {str(e).splitlines()[0]}; nothing migrated") from None
    else:
        try:
            return legacy_export.export(con, outdir, snapshot.name), f"duckdb {duckdb.__version__}"
        finally:
            con.close()
    uv = _uv(snapshot)
    # the interpreter this venv was made from: the project's packages (its duckdb 1.5.5) stay out
    python = getattr(sys, "_base_executable", sys.executable)
    command = [uv, "run", "--no-project", "--python", python, "--with", f"duckdb=={LEGACY_DUCKDB}"]
    command += ["python", str(EXPORTER), str(snapshot), str(outdir)]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    try:
        p = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PulseError(f"could not run {uv} to read {snapshot.name} with duckdb {LEGACY_DUCKDB}: {e}") from None
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["no output"])[-1]
        raise PulseError(
            f"reading {snapshot.name} with duckdb {LEGACY_DUCKDB} through uv failed ({last}); nothing migrated"
        )
    manifest = json.loads((outdir / legacy_export.MANIFEST).read_text(encoding="utf-8"))
    return manifest, f"duckdb {manifest['duckdb']} (uv)"


def _uv(snapshot: Path) -> str:
    if found := os.environ.get(UV_ENV):
        return found
    local = PROJECT / ".tools" / "bin" / "uv"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    if found := shutil.which("uv"):
        return found
    raise PulseError(
        f"{snapshot.name} was written by a newer DuckDB than {duckdb.__version__}; reading it needs uv "
        f"(to run duckdb {LEGACY_DUCKDB}), found neither ${UV_ENV}, {local} nor uv on PATH: install uv or set {UV_ENV}"
    )


# --- writing the lake -------------------------------------------------------------------


def _import(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], src: Path, name: str) -> dict[str, int]:
    """Every exported table into the lake (inside con's open transaction); rows per table."""
    prepare(con)
    schema = {
        t
        for (t,) in con.sql(
            "select table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    }
    marts = set(mart_names())
    unknown = sorted(set(manifest["tables"]) - schema - marts)
    if unknown:
        raise PulseError(f"{name} has a table this version does not know: {', '.join(unknown)}; nothing migrated")
    rows = {}
    for table, info in sorted(manifest["tables"].items()):
        path = str(src / info["file"]).replace("'", "''")
        select = ", ".join(_restored(c, kind) for c, kind in info["columns"])
        q = legacy_export.quoted(table)
        if table in schema:
            con.execute(f"insert into {q} by name select {select} from read_parquet('{path}')")
        else:  # a mart: the refresh creates it from its statement, the migration from its rows
            con.execute(f"create or replace table {q} as select {select} from read_parquet('{path}')")
        rows[table] = info["rows"]
    return rows


def _restored(column: str, kind: str) -> str:
    c = legacy_export.quoted(column)
    if kind == "UHUGEINT":  # its 32 hex digits: the lake's user_key is a UUID of the same 128 bits
        return f"{c}::uuid as {c}"
    if kind == "HUGEINT":
        return f"{c}::hugeint as {c}"
    return c


def _check(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], name: str) -> None:
    """Before the commit: the lake holds what the snapshot held, or nothing is committed."""
    for table, info in manifest["tables"].items():
        q = legacy_export.quoted(table)
        (n,) = con.sql(f"select count(*) from {q}").fetchall()[0]
        if n != info["rows"]:
            raise PulseError(f"{name}: {table} has {info['rows']} rows, the lake {n}; nothing migrated")
        for column, expected in info.get("distinct", {}).items():
            (got,) = con.sql(f"select count(distinct {legacy_export.quoted(column)}) from {q}").fetchall()[0]
            if got != expected:
                raise PulseError(
                    f"{name}: {table}.{column} has {expected} distinct values, the lake {got}; nothing migrated"
                )
    check_counts(con, f"{name} migrated")
    if legacy_export.RELEASES in manifest["tables"]:
        before = manifest["digests"][legacy_export.RELEASES]
        if legacy_export.rows_digest(con) != before:
            raise PulseError(f"{name}: partner_releases differ in the lake from the snapshot file; nothing migrated")
