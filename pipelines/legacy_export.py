"""Export every table of one warehouse snapshot file to Parquet, for `pulse migrate`.

Run as a file, with the DuckDB that wrote the snapshot (release 1 wrote its files with
duckdb 2.0.1, which the pinned 1.5.5 cannot open):

    uv run --no-project --with duckdb==2.0.1 python pipelines/legacy_export.py SNAPSHOT OUTDIR

Standard library and duckdb only, no project import: it runs outside the project's
environment. It writes OUTDIR/<table>.parquet for every table and OUTDIR/manifest.json:
each table's row count, columns (name, type) and, for the 128-bit columns, the count of
distinct values; plus a digest of partner_releases (every row, sorted). A UHUGEINT column
(user_key) is written as its 32 hex digits and a HUGEINT as its decimal text: Parquet would
store either as a DOUBLE and lose bits. `pipelines/migrate.py` imports the same function
when the installed DuckDB can open the file itself.
"""

from __future__ import annotations

import os
import sys

# Run as a file, Python puts pipelines/ first on sys.path, where pipelines/secrets.py would
# hide the standard library's `secrets` (which duckdb imports): that folder goes.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import hashlib  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import duckdb  # noqa: E402

MANIFEST = "manifest.json"
AS_TEXT = {"UHUGEINT": "format('{{:032x}}', {c})", "HUGEINT": "{c}::varchar"}
RELEASES = "partner_releases"
# partner_releases' row, each value as a plain str or int whatever DuckDB version reads it
RELEASE_ROW = (
    "partner_id",
    "week_start::varchar",
    "measure",
    "dimension",
    "category",
    "count_value",
    "status",
    "min_cell",
    "epoch_us(released_at)",
    "load_id",
)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rows_digest(con: duckdb.DuckDBPyConnection, table: str = RELEASES, row: tuple[str, ...] = RELEASE_ROW) -> str:
    """sha256 of every row of `table` as JSON, sorted: equal digests, identical rows."""
    rows = con.sql(f"select {', '.join(row)} from {quoted(table)}").fetchall()
    digest = hashlib.sha256()
    for line in sorted(json.dumps(list(r), ensure_ascii=False) for r in rows):
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def export(con: duckdb.DuckDBPyConnection, outdir: Path, snapshot: str) -> dict:
    """Every table of con's database to outdir; returns the manifest (also written there)."""
    con.execute("set TimeZone = 'UTC'")
    outdir.mkdir(parents=True, exist_ok=True)
    tables = [
        t
        for (t,) in con.sql(
            "select table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = 'main' and not temporary order by 1"
        ).fetchall()
    ]
    manifest: dict = {"duckdb": duckdb.__version__, "snapshot": snapshot, "tables": {}, "digests": {}}
    for table in tables:
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where database_name = current_database() and schema_name = 'main' and table_name = ? "
            "order by column_index",
            [table],
        ).fetchall()
        select = ", ".join(
            AS_TEXT.get(kind, "{c}").format(c=quoted(name)) + f" as {quoted(name)}" for name, kind in columns
        )
        path = outdir / f"{table}.parquet"
        con.execute(
            f"copy (select {select} from {quoted(table)}) to '{str(path).replace(chr(39), chr(39) * 2)}' (format parquet)"
        )
        (rows,) = con.sql(f"select count(*) from {quoted(table)}").fetchall()[0]
        wide = [name for name, kind in columns if kind in AS_TEXT]
        distinct = (
            dict(
                zip(
                    wide,
                    con.sql(
                        "select " + ", ".join(f"count(distinct {quoted(c)})" for c in wide) + f" from {quoted(table)}"
                    ).fetchall()[0],
                    strict=True,
                )
            )
            if wide
            else {}
        )
        manifest["tables"][table] = {
            "file": path.name,
            "rows": rows,
            "columns": [[name, kind] for name, kind in columns],
            "distinct": distinct,
        }
    if RELEASES in tables:
        manifest["digests"][RELEASES] = rows_digest(con)
    (outdir / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: legacy_export.py SNAPSHOT OUTDIR", file=sys.stderr)
        return 2
    snapshot, outdir = Path(argv[0]), Path(argv[1])
    try:
        con = duckdb.connect(str(snapshot), read_only=True)
    except duckdb.Error as e:
        print(f"{snapshot}: not readable by duckdb {duckdb.__version__}: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    try:
        manifest = export(con, outdir, snapshot.name)
    finally:
        con.close()
    print(json.dumps({"duckdb": manifest["duckdb"], "tables": len(manifest["tables"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
