"""Every CSV the product writes goes through here: `pulse export`, the dashboard's downloads
and the audit log export. A text cell that a spreadsheet would read as a formula (one that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is written with a single quote
in front (OWASP's advice against CSV injection), so `=HYPERLINK("http://…")` typed as an
account name opens as text, not as a link. A number stays a number: `-3`, `+1.5` and
`-2e3` are left alone, and so is every numeric column. Column names are treated like cells.
Data without such cells is written byte for byte as Polars' `write_csv` writes it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

import polars as pl

__all__ = ["FORMULA_START", "neutralise", "neutralise_text", "to_bytes", "to_text", "write"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_RISKY = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_NUMBER_RE = re.compile(_NUMBER)


def neutralise_text(value: str) -> str:
    """One cell: `'` in front of a formula-like text, numbers and other text unchanged."""
    if value.startswith(FORMULA_START) and not _NUMBER_RE.match(value):
        return "'" + value
    return value


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """The frame with every formula-like text cell (and column name) quoted."""
    categorical = [c for c, t in df.schema.items() if isinstance(t, (pl.Categorical, pl.Enum))]
    if categorical:
        df = df.with_columns(pl.col(c).cast(pl.String) for c in categorical)
    text = [c for c, t in df.schema.items() if t == pl.String]
    if text:
        df = df.with_columns(
            pl.when(pl.col(c).str.contains(_RISKY) & ~pl.col(c).str.contains(_NUMBER))
            .then(pl.concat_str([pl.lit("'"), pl.col(c)]))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text
        )
    renamed = {c: neutralise_text(c) for c in df.columns if neutralise_text(c) != c}
    return df.rename(renamed) if renamed else df


def to_text(df: pl.DataFrame) -> str:
    return neutralise(df).write_csv()


BOM = "\ufeff"  # UTF-8's byte-order mark: Excel reads the file as UTF-8 (Khmer), not the local code page


def bom_for(lang: str) -> bool:
    """A CSV in any language but English starts with the BOM (English ones stay as they were)."""
    return lang != "en"


def to_bytes(df: pl.DataFrame, bom: bool = False) -> bytes:
    """The CSV as UTF-8 bytes, for a download button; with `bom`, the byte-order mark first."""
    return ((BOM if bom else "") + to_text(df)).encode("utf-8")


def write(df: pl.DataFrame, out: Path | IO[str] | IO[bytes], bom: bool = False) -> None:
    """Write the CSV to a path or an open file (with `bom`, a path only: the BOM first)."""
    if bom:
        Path(out).write_bytes(to_bytes(df, bom=True))  # type: ignore[arg-type]
        return
    neutralise(df).write_csv(out)
