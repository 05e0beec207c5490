"""Partner releases: each partner's figures for a closed week, protected once and frozen.

A partner may compare every export it ever gets, so its figures come only from fixed
reporting periods (Monday–Sunday weeks in the campaign timezone) computed once, after the
week ended and `privacy.release_after_hours` passed, then carried unchanged into every later
snapshot. The cells are one-way tables (a measure by one dimension, with the week's total)
protected by `queries.privacy.protect`; pages and exports only select from them and never
add them up. README, "Privacy", explains the choice.
"""

from __future__ import annotations

import datetime as dt
import logging

import duckdb
import polars as pl

from core.settings import Settings
from core.sqlfiles import sql
from queries.partner import CATEGORIES, DIMENSIONS, MEASURES, TIP_MEASURE, week_days
from queries.privacy import SHOWN, SMALL, protect

log = logging.getLogger(__name__)


def weeks_due(settings: Settings, now: dt.datetime) -> list[dt.date]:
    """Mondays of the campaign weeks that have ended at least release_after_hours ago."""
    tz = settings.tz
    first = settings.launch - dt.timedelta(days=settings.launch.weekday())
    last_day = settings.end or (now.astimezone(tz).date())
    grace = dt.timedelta(hours=settings.privacy.release_after_hours)
    weeks, week = [], first
    while week <= last_day:
        if dt.datetime.combine(week + dt.timedelta(days=7), dt.time(), tz) + grace <= now:
            weeks.append(week)
        week += dt.timedelta(days=7)
    return weeks


def release_closed_weeks(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: str, now: dt.datetime) -> int:
    """Release every due week not yet released for each configured partner; returns the
    number of partner-weeks released. Weeks released under another min_cell are released
    again (raising the threshold is an operator's decision and applies to the past)."""
    n = settings.privacy.min_cell
    con.execute("delete from partner_releases where min_cell <> $n", {"n": n})
    done = set(con.sql("select distinct partner_id, week_start from partner_releases").fetchall())
    todo = [(p, w) for w in weeks_due(settings, now) for p in settings.partner_ids if (p, w) not in done]
    if not todo:
        return 0
    partners = sorted({p for p, _ in todo})
    weeks = sorted({w for _, w in todo})
    counts = con.sql(sql("release_counts", "pipelines"), params={"partners": partners, "weeks": weeks}).pl()
    cells = (
        _universe(todo)
        .join(counts, on=["partner_id", "week_start", "measure", "dimension", "category"], how="left")
        .with_columns(pl.col("count_value").fill_null(0))
    )
    protected = protect(cells, ["partner_id", "week_start", "measure", "dimension"], "count_value", n)
    totals = (
        cells.filter(pl.col("dimension") == "day")
        .group_by("partner_id", "week_start", "measure")
        .agg(pl.col("count_value").sum())
        .with_columns(
            dimension=pl.lit("total"),
            category=pl.lit("all"),
            status=pl.when(pl.col("count_value") >= n).then(pl.lit(SHOWN)).otherwise(pl.lit(SMALL)),
        )
    )
    rows = pl.concat([protected, totals], how="diagonal_relaxed").with_columns(
        min_cell=pl.lit(n, pl.Int32), released_at=pl.lit(now), load_id=pl.lit(load_id)
    )
    con.register("new_release_rows", rows.to_arrow())
    con.execute("insert into partner_releases by name select * from new_release_rows")
    con.unregister("new_release_rows")
    log.info("released %d partner-weeks (%d cells)", len(todo), rows.height)
    return len(todo)


def _universe(todo: list[tuple[str, dt.date]]) -> pl.DataFrame:
    """Every cell of every table of the weeks being released, whether it has events or not:
    a table's rows never depend on its data, so a missing row reveals nothing."""
    rows = []
    for partner, week in todo:
        for measure in MEASURES:
            for dimension in DIMENSIONS:
                if measure == TIP_MEASURE and dimension in ("entry_point", "channel"):
                    continue
                cats = week_days(week) if dimension == "day" else CATEGORIES[dimension]
                rows.extend((partner, week, measure, dimension, c) for c in cats)
    return pl.DataFrame(
        rows,
        schema={
            "partner_id": pl.String,
            "week_start": pl.Date,
            "measure": pl.String,
            "dimension": pl.String,
            "category": pl.String,
        },
        orient="row",
    )
