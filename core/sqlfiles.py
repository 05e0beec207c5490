"""SQL lives in .sql files, one statement (or one set of macros) per file: the read side's in
queries/sql/, the write side's (schema, staging, marts, housekeeping) in pipelines/sql/."""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOTS = {
    "queries": Path(__file__).parent.parent / "queries" / "sql",
    "pipelines": Path(__file__).parent.parent / "pipelines" / "sql",
}


@cache
def sql(name: str, package: str = "queries") -> str:
    """The text of `<package>/sql/<name>.sql`."""
    return (ROOTS[package] / f"{name}.sql").read_text(encoding="utf-8")


def mart_names() -> list[str]:
    return sorted(p.stem for p in (ROOTS["pipelines"] / "marts").glob("*.sql"))
