"""Small-cell suppression: the one place that decides which counts may be shown.

Two layers, both here so no page or export decides on its own:

- **Primary**: a count below `privacy.min_cell` is shown as the text `<min_cell`. In what a
  partner sees zero is `<min_cell` too, so a hidden count can be any of the `min_cell`
  values 0 … N-1 (`suppress`, for policy tables, shows zero as 0).
- **Complementary** (`protect_table`): a table is published with its total, so hiding one
  small cell alone is useless (total minus the other cells gives it back). Enough further
  cells are hidden that every small cell can still be *each* of 0 … N-1 given everything
  shown; a table where even hiding every cell is not enough is withheld (only its total is
  shown). The check is exact for a one-way table with a known total, the only shape a
  partner sees (README, "Privacy").

Statuses, as stored in partner releases and returned to pages: `shown` (the number),
`small` (`<N`), `hidden` (an N-or-more count hidden to protect a small one) and `withheld`
(the whole breakdown is not published).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

SHOWN, SMALL, HIDDEN, WITHHELD = "shown", "small", "hidden", "withheld"
HIDDEN_TEXT = "hidden"


def protect_table(counts: Sequence[int], min_cell: int) -> list[str]:
    """The status of each cell of a one-way table whose total (their sum) is published.

    If the total itself is below min_cell every cell is small. Otherwise small cells are
    hidden, then visible cells are added to the hidden set (the smallest one that is enough,
    else the largest, repeated) until `_safe` holds; if no hidden set is safe the table is
    withheld."""
    n = min_cell
    if sum(counts) < n:
        return [SMALL] * len(counts)
    small = [i for i, c in enumerate(counts) if c < n]
    if not small:
        return [SHOWN] * len(counts)
    hidden: list[int] = []
    visible = sorted((i for i, c in enumerate(counts) if c >= n), key=lambda i: (counts[i], i))
    while not _safe(counts, small, hidden, n):
        if not visible:
            return [WITHHELD] * len(counts)
        enough = [i for i in visible if _safe(counts, small, [*hidden, i], n)]
        pick = enough[0] if enough else visible[-1]
        hidden.append(pick)
        visible.remove(pick)
    status = [SHOWN] * len(counts)
    for i in small:
        status[i] = SMALL
    for i in hidden:
        status[i] = HIDDEN
    return status


def _safe(counts: Sequence[int], small: list[int], hidden: list[int], n: int) -> bool:
    """True when every small cell can take each value 0 … n-1, knowing: the table's total,
    the shown cells, that a small cell is in [0, n-1] and a hidden one is at least n.

    The hidden cells sum to S. A small cell reaches 0 when the others can absorb S (some
    hidden cell is unbounded, or the other small cells hold it: S <= (k-1)(n-1)), and it
    reaches n-1 when the others can be at their minimum (S - n*len(hidden) >= n-1). The same
    two conditions hold for every small cell, so one check covers them all."""
    s = sum(counts[i] for i in small) + sum(counts[i] for i in hidden)
    reaches_zero = bool(hidden) or s <= (len(small) - 1) * (n - 1)
    reaches_top = s - n * len(hidden) >= n - 1
    return reaches_zero and reaches_top


def protect(df: pl.DataFrame, by: list[str], count: str, min_cell: int) -> pl.DataFrame:
    """`df` plus a `status` column: each group of `by` is one one-way table (its rows are the
    cells, its sum the published total) protected with `protect_table`."""
    if df.is_empty():
        return df.with_columns(status=pl.lit(None, pl.String))
    keyed = df.with_row_index("_row")
    statuses: dict[int, str] = {}
    for _, group in keyed.group_by(by, maintain_order=True):
        for row, status in zip(group["_row"], protect_table(group[count].to_list(), min_cell), strict=True):
            statuses[row] = status
    return keyed.with_columns(status=pl.col("_row").replace_strict(statuses, return_dtype=pl.String)).drop("_row")


def shown_text(count: pl.Expr, status: pl.Expr, min_cell: int) -> pl.Expr:
    """What a person sees for a protected count: the number, `<N`, `hidden` or nothing
    (withheld)."""
    return (
        pl.when(status == SHOWN)
        .then(count.cast(pl.Int64).cast(pl.String))
        .when(status == SMALL)
        .then(pl.lit(f"<{min_cell}"))
        .when(status == HIDDEN)
        .then(pl.lit(HIDDEN_TEXT))
    )


def protect_columns(df: pl.DataFrame, columns: list[str], min_cell: int, *, thousands: bool = False) -> pl.DataFrame:
    """A wide table (one row per segment) where each count column's total is known elsewhere
    (a KPI tile, another page): every column is protected as its own one-way table and
    becomes text: the number, `<N`, `hidden`, or `withheld` for a column that cannot be
    broken down safely."""
    out = df
    for c in columns:
        status = pl.Series(protect_table(df[c].fill_null(0).to_list(), min_cell), dtype=pl.String)
        number = _with_commas(pl.col(c).cast(pl.Int64)) if thousands else pl.col(c).cast(pl.Int64).cast(pl.String)
        out = out.with_columns(
            pl.when(status == SHOWN)
            .then(number)
            .when(status == SMALL)
            .then(pl.lit(f"<{min_cell}"))
            .when(status == HIDDEN)
            .then(pl.lit(HIDDEN_TEXT))
            .otherwise(pl.lit(WITHHELD))
            .alias(c)
        )
    return out


def suppress(df: pl.DataFrame, columns: list[str], min_cell: int, *, thousands: bool = False) -> pl.DataFrame:
    """Primary suppression only, for policy tables whose counts have no published total:
    values in `columns` from 1 to min_cell - 1 become `<min_cell` (zero stays 0); all become
    text, so a table or a CSV never mixes a hidden and a shown cell type. `thousands` writes
    12345 as 12,345 (for screens; CSV files keep plain digits)."""
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
