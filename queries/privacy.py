"""Small-cell suppression: the one place that hides counts below `privacy.min_cell`."""

from __future__ import annotations

import polars as pl


def suppress(df: pl.DataFrame, columns: list[str], min_cell: int, *, thousands: bool = False) -> pl.DataFrame:
    """Counts in `columns` between 1 and min_cell - 1 become the text `<min_cell`; the others
    become text too, so a table or a CSV never mixes a hidden and a shown cell type.
    `thousands` writes 12345 as 12,345 (for screens; CSV files keep plain digits)."""
    return df.with_columns(
        pl.when((pl.col(c) > 0) & (pl.col(c) < min_cell))
        .then(pl.lit(f"<{min_cell}"))
        .otherwise(_with_commas(pl.col(c).cast(pl.Int64)) if thousands else pl.col(c).cast(pl.Int64).cast(pl.String))
        .alias(c)
        for c in columns
    )


def _with_commas(n: pl.Expr) -> pl.Expr:
    """Non-negative integers below a billion with thousands separators, vectorised."""
    group = lambda e: e.cast(pl.String).str.zfill(3)  # noqa: E731
    return (
        pl.when(n >= 1_000_000)
        .then(pl.format("{},{},{}", n // 1_000_000, group(n // 1000 % 1000), group(n % 1000)))
        .when(n >= 1000)
        .then(pl.format("{},{}", n // 1000, group(n % 1000)))
        .otherwise(n.cast(pl.String))
    )
