"""The partner read side: one partner's released weeks, and nothing else.

Every function takes the partner id from the caller's signed-in identity (or the
`pulse export --partner` argument) and reads only that partner's rows of
`partner_releases` (see pipelines/releases.py). Pages and exports select cells from the
releases; they never add cells together, so no new total can be differenced against them.
A count that is not `shown` leaves this module only as its text (`<N`, `hidden`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from queries import reference as ref
from queries.privacy import SHOWN, WITHHELD
from queries.settings import Settings

REFERRAL_MEASURES = ("shown", "clicked", "contacted")
TIP_MEASURE = "tip_video_views"
MEASURES = (*REFERRAL_MEASURES, TIP_MEASURE)
DIMENSIONS = ("day", "entry_point", "channel", "province", "age_band", "language")

MEASURE_NAMES = {
    "shown": "Shown",
    "clicked": "Tapped",
    "contacted": "Contacted",
    TIP_MEASURE: "Tip video views",
}
DIMENSION_NAMES = {
    "total": "Whole week",
    "day": "Day",
    "entry_point": "Entry point",
    "channel": "Channel",
    "province": "Province",
    "age_band": "Age band",
    "language": "Language",
}
CATEGORIES: dict[str, tuple[str, ...]] = {
    "entry_point": ref.ENTRY_POINTS,
    "channel": ref.CHANNELS,
    "province": (*(code for code, _, _ in ref.PROVINCES), ref.UNKNOWN),
    "age_band": (*ref.AGE_BANDS, ref.UNKNOWN),
    "language": (*ref.LANGUAGES, ref.UNKNOWN),
}
_LABELS = {
    "province": {code: name for code, name, _ in ref.PROVINCES} | {ref.UNKNOWN: "Unknown"},
    "language": {"km": "Khmer", "en": "English", "other": "Other", ref.UNKNOWN: "Unknown"},
    "entry_point": {e: e.replace("_", " ").capitalize() for e in ref.ENTRY_POINTS},
    "channel": {c: c.capitalize() for c in ref.CHANNELS},
    "age_band": {a: a for a in ref.AGE_BANDS} | {ref.UNKNOWN: "Unknown"},
}

_ORDER = {f"{d}|{c}": i for d, cats in CATEGORIES.items() for i, c in enumerate(cats)}


def week_days(week_start: dt.date) -> tuple[str, ...]:
    return tuple((week_start + dt.timedelta(days=i)).isoformat() for i in range(7))


def label(dimension: str, category: str) -> str:
    """A category as a person reads it: province names, 'Mon 23 Nov' for days."""
    if dimension == "day":
        return f"{dt.date.fromisoformat(category):%a %d %b}"
    if dimension == "total":
        return "Whole week"
    return _LABELS[dimension].get(category, category)


def released_weeks(con: duckdb.DuckDBPyConnection, partner_id: str) -> list[dt.date]:
    """Mondays of the weeks released for this partner, newest first."""
    rows = con.sql(
        "select distinct week_start from partner_releases where partner_id = $partner order by week_start desc",
        params={"partner": partner_id},
    ).fetchall()
    return [w for (w,) in rows]


def weeks_in_month(weeks: list[dt.date], month: dt.date) -> list[dt.date]:
    """The weeks that belong to a month: those whose Thursday falls in it (as ISO weeks do),
    so each week is in exactly one month report."""
    return sorted(w for w in weeks if (w + dt.timedelta(days=3)).replace(day=1) == month.replace(day=1))


def present_categories(con: duckdb.DuckDBPyConnection, partner_id: str) -> dict[str, list[str]]:
    """Per dimension, the values with at least one event of this partner in a released week:
    the only values its filter lists offer (in the order of the reference lists)."""
    rows = con.sql(
        "select distinct dimension, category from partner_releases "
        "where partner_id = $partner and dimension <> 'total' and count_value > 0",
        params={"partner": partner_id},
    ).fetchall()
    present: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for dimension, category in sorted(rows, key=lambda r: (_ORDER.get(f"{r[0]}|{r[1]}", 0), r[1])):
        present[dimension].append(category)
    return present


def cells(con: duckdb.DuckDBPyConnection, partner_id: str, weeks: list[dt.date], min_cell: int) -> pl.DataFrame:
    """The released cells of these weeks: week_start, measure, dimension, category, label,
    value (the count when shown, else null), text (what is displayed) and status. A withheld
    table is one row with category '*' and text 'withheld'."""
    n = min_cell
    df = (
        con.sql(
            "select week_start, measure, dimension, category, "
            "case when status = 'shown' then count_value end as value, status "
            "from partner_releases where partner_id = $partner and list_contains($weeks, week_start) "
            "order by week_start, measure, dimension, category",
            params={"partner": partner_id, "weeks": weeks},
        )
        .pl()
        .with_columns(pl.col("value").cast(pl.Int64))
    )
    withheld = (
        df.filter(pl.col("status") == WITHHELD)
        .unique(["week_start", "measure", "dimension"], maintain_order=True)
        .with_columns(category=pl.lit("*"))
    )
    df = pl.concat([df.filter(pl.col("status") != WITHHELD), withheld])
    return df.with_columns(
        label=pl.struct("dimension", "category").map_elements(
            lambda r: "(withheld)" if r["category"] == "*" else label(r["dimension"], r["category"]),
            return_dtype=pl.String,
        ),
        text=pl.when(pl.col("status") == SHOWN)
        .then(pl.col("value").cast(pl.String))
        .when(pl.col("status") == "small")
        .then(pl.lit(f"<{n}"))
        .when(pl.col("status") == "hidden")
        .then(pl.lit("hidden"))
        .otherwise(pl.lit("withheld")),
    ).sort(
        "week_start",
        pl.col("measure").replace_strict({m: i for i, m in enumerate(MEASURES)}, return_dtype=pl.Int8),
        pl.col("dimension").replace_strict({m: i for i, m in enumerate(("total", *DIMENSIONS))}, return_dtype=pl.Int8),
        pl.concat_str("dimension", "category", separator="|").replace_strict(_ORDER, default=0, return_dtype=pl.Int16),
        "category",
    )


def table(week_cells: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """One week's one-way tables for `dimension`, side by side: a row per category with the
    shown text of each measure and the tap and contact rates where both counts are shown.
    Withheld measures read 'withheld' in every row."""
    part = week_cells.filter(pl.col("dimension") == dimension)
    if part.is_empty():
        return pl.DataFrame()
    measures = [m for m in MEASURES if m in set(part["measure"])]
    rows = part.filter(pl.col("category") != "*").select("category", "label").unique(maintain_order=True)
    out = rows
    for m in measures:
        col = part.filter(pl.col("measure") == m)
        if (col["category"] == "*").any():
            out = out.with_columns(pl.lit("withheld").alias(MEASURE_NAMES[m]), pl.lit(None, pl.Int64).alias(m))
        else:
            out = out.join(
                col.select("category", pl.col("text").alias(MEASURE_NAMES[m]), pl.col("value").alias(m)),
                on="category",
                how="left",
            )
    for rate, (num, den) in {"Tap rate %": ("clicked", "shown"), "Contact rate %": ("contacted", "clicked")}.items():
        if num in out.columns and den in out.columns:
            out = out.with_columns(
                pl.when(pl.col(den) > 0).then((pl.col(num) / pl.col(den) * 100).round(1)).alias(rate)
            )
    return out.drop([m for m in measures], strict=False).rename({"label": DIMENSION_NAMES[dimension]})


def weekly_totals(week_cells: pl.DataFrame) -> pl.DataFrame:
    """week_start, measure, value (null unless shown), text: each released week's totals."""
    return week_cells.filter(pl.col("dimension") == "total").select("week_start", "measure", "value", "text")


def report(
    con: duckdb.DuckDBPyConnection, settings: Settings, partner_id: str, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """The partner report (`pulse export`, the portal's full download): every released cell
    of the weeks that overlap [start, end], one row each, as displayed."""
    weeks = [w for w in released_weeks(con, partner_id) if w <= end and w + dt.timedelta(days=6) >= start]
    name = {p.id: p.name for p in settings.partners}[partner_id]
    return report_from_cells(cells(con, partner_id, sorted(weeks), settings.privacy.min_cell), name)


def report_from_cells(week_cells: pl.DataFrame, partner_name: str) -> pl.DataFrame:
    """Released cells as report rows: partner, week_start, week_end, measure, breakdown,
    category, value (as displayed)."""
    return week_cells.select(
        pl.lit(partner_name).alias("partner"),
        pl.col("week_start"),
        (pl.col("week_start") + pl.duration(days=6)).alias("week_end"),
        pl.col("measure").replace_strict(MEASURE_NAMES).alias("measure"),
        pl.col("dimension").replace_strict(DIMENSION_NAMES).alias("breakdown"),
        pl.col("label").alias("category"),
        pl.col("text").alias("value"),
    )
