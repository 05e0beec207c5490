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

from core import labels
from core import reference as ref
from core.settings import Settings
from queries.privacy import SHOWN, WITHHELD

REFERRAL_MEASURES = ("shown", "clicked", "contacted")
TIP_MEASURE = "tip_video_views"
MEASURES = (*REFERRAL_MEASURES, TIP_MEASURE)
DIMENSIONS = ("day", "entry_point", "channel", "province", "age_band", "language")

# English source words (core/labels.py); read them through measure_name() / dimension_name().
MEASURE_NAMES = labels.LABELS["measure"]
DIMENSION_NAMES = labels.LABELS["dimension"]


def tap_rate_name() -> str:  # a column name, in the current language
    return labels._("Tap rate %")


def contact_rate_name() -> str:
    return labels._("Contact rate %")


CATEGORIES: dict[str, tuple[str, ...]] = {
    "entry_point": ref.ENTRY_POINTS,
    "channel": ref.CHANNELS,
    "province": (*(code for code, _, _ in ref.PROVINCES), ref.UNKNOWN),
    "age_band": (*ref.AGE_BANDS, ref.UNKNOWN),
    "language": (*ref.LANGUAGES, ref.UNKNOWN),
}
_ORDER = {f"{d}|{c}": i for d, cats in CATEGORIES.items() for i, c in enumerate(cats)}


def week_days(week_start: dt.date) -> tuple[str, ...]:
    return tuple((week_start + dt.timedelta(days=i)).isoformat() for i in range(7))


def measure_name(measure: str) -> str:
    return labels.label("measure", measure)


def dimension_name(dimension: str) -> str:
    return labels.label("dimension", dimension)


def label(dimension: str, category: str) -> str:
    """A category as a person reads it (core/labels.py): province names, 'Mon 23 Nov' for days."""
    if dimension == "day":
        day = dt.date.fromisoformat(category)
        return labels.digits(
            labels._("{weekday} {day} {month}").format(
                weekday=labels.label("weekday_short", day.isoweekday()),
                day=f"{day.day:02d}",
                month=labels.label("month_short", day.month),
            )
        )
    if dimension == "total":
        return dimension_name("total")
    return labels.label(dimension, category)


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
            labels.bound(
                lambda r: labels._("(withheld)") if r["category"] == "*" else label(r["dimension"], r["category"])
            ),
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
            out = out.with_columns(pl.lit("withheld").alias(measure_name(m)), pl.lit(None, pl.Int64).alias(m))
        else:
            out = out.join(
                col.select("category", pl.col("text").alias(measure_name(m)), pl.col("value").alias(m)),
                on="category",
                how="left",
            )
    for rate, (num, den) in {
        tap_rate_name(): ("clicked", "shown"),
        contact_rate_name(): ("contacted", "clicked"),
    }.items():
        if num in out.columns and den in out.columns:
            out = out.with_columns(
                pl.when(pl.col(den) > 0).then((pl.col(num) / pl.col(den) * 100).round(1)).alias(rate)
            )
    return out.drop([m for m in measures], strict=False).rename({"label": dimension_name(dimension)})


def weekly_totals(week_cells: pl.DataFrame) -> pl.DataFrame:
    """week_start, measure, value (null unless shown), text: each released week's totals."""
    return week_cells.filter(pl.col("dimension") == "total").select("week_start", "measure", "value", "text")


def report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    partner_id: str,
    start: dt.date,
    end: dt.date,
    script: bool = True,
) -> pl.DataFrame:
    """The partner report (`pulse export`, the portal's full download): every released cell
    of the weeks that overlap [start, end], one row each, as displayed. `script`: the frozen
    words of `pulse export` (default); otherwise the catalog's, in the current language."""
    weeks = [w for w in released_weeks(con, partner_id) if w <= end and w + dt.timedelta(days=6) >= start]
    name = {p.id: p.name for p in settings.partners}[partner_id]
    return report_from_cells(cells(con, partner_id, sorted(weeks), settings.privacy.min_cell), name, script=script)


def report_from_cells(week_cells: pl.DataFrame, partner_name: str, script: bool = False) -> pl.DataFrame:
    """Released cells as report rows: partner, week start and end, measure, breakdown,
    category, value (as displayed). `script=True` is `pulse export`'s frozen format (lower-case
    headers, the words of `labels.SCRIPT_WORDS`: scripts parse it); otherwise the headers and
    words come from the label catalog."""
    if script:
        words = labels.SCRIPT_WORDS
        category = pl.struct("dimension", "category").map_elements(
            lambda r: "(withheld)" if r["category"] == "*" else labels.script_word(r["dimension"], r["category"]),
            return_dtype=pl.String,
        )
        headers = ["partner", "week_start", "week_end", "measure", "breakdown", "category", "value"]
        measure, dimension = words["measure"], words["dimension"]
    else:
        category = pl.col("label")
        headers = [
            labels._("Partner"),
            labels._("Week start"),
            labels._("Week end"),
            labels._("Measure"),
            labels._("Breakdown"),
            labels._("Category"),
            labels._("Value"),
        ]
        measure = {m: measure_name(m) for m in MEASURES}
        dimension = {d: dimension_name(d) for d in ("total", *DIMENSIONS)}
    return week_cells.select(
        pl.lit(partner_name).alias(headers[0]),
        pl.col("week_start").alias(headers[1]),
        (pl.col("week_start") + pl.duration(days=6)).alias(headers[2]),
        pl.col("measure").replace_strict(measure).alias(headers[3]),
        pl.col("dimension").replace_strict(dimension).alias(headers[4]),
        category.alias(headers[5]),
        pl.col("text").alias(headers[6]),
    )
