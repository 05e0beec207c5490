"""The read side of every page: one function per `queries/sql/pages/*.sql` statement, run
with bound parameters on the published snapshot, returning Polars frames."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import polars as pl

from core import reasons
from core.datadir import DataDir
from core.reference import REFERRAL_STAGES, SAFETY_ACTIONS
from core.settings import Settings
from core.sqlfiles import sql
from queries.filters import Filters
from queries.lake_cache import open_cached, snapshot_cache
from queries.warehouse import connect_snapshot


@contextmanager
def reader(d: DataDir) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the latest snapshot's local cache (queries.lake_cache) with
    the page macros defined."""
    from core.settings import load_settings

    con = open_cached(load_settings(), d)
    try:
        con.execute(sql("pages/macros"))
        yield con
    finally:
        con.close()


class Readers:
    """Read-only connections to one published snapshot's cache, with the page macros defined,
    each lent to one query at a time (a DuckDB connection serves one thread) and kept for the
    next: opening a snapshot costs 20-40 ms, more than most page queries. The dashboard keeps one
    per published snapshot; `close` closes the idle ones now and the lent ones when they come
    back.

    `snapshot` is the one the session saw (its cache is used when it is still there; else the
    latest). The file is opened once, here, and every connection is a cursor of that database:
    when two later refreshes prune the cache file, the connections still read it (POSIX)."""

    def __init__(self, d: DataDir, snapshot: str | None = None) -> None:
        from core.settings import load_settings

        self.snapshot, self.path = snapshot_cache(load_settings(), d, snapshot)
        self._database = connect_snapshot(self.path)
        self._idle: list[duckdb.DuckDBPyConnection] = []
        self._lent = 0
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._closed:
                raise RuntimeError("these readers are closed")
            con = self._idle.pop() if self._idle else None
            if con is None:
                con = self._database.cursor()
                con.execute("set TimeZone = 'UTC'")
                con.execute(sql("pages/macros"))
            self._lent += 1
        try:
            yield con
        finally:
            with self._lock:
                self._lent -= 1
                if self._closed:
                    con.close()
                    if not self._lent:
                        self._database.close()
                else:
                    self._idle.append(con)

    def close(self) -> None:
        with self._lock:
            self._closed, idle, self._idle = True, self._idle, []
            for con in idle:
                con.close()
            if not self._lent:
                self._database.close()


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pl.DataFrame:
    text = sql(f"pages/{name}")
    if "$max_user_number" in text:  # the bound of the distinct-people bitmaps (user numbers are dense)
        params = {
            **params,
            "max_user_number": con.sql("select greatest(count(*), 1) from user_numbers").fetchall()[0][0],
        }
    return con.sql(text, params={k: v for k, v in params.items() if f"${k}" in text}).pl()


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """The first and last day with any event, or None for an empty snapshot."""
    first, last = run(con, "data_range", {}).row(0)
    return None if first is None else (first, last)


HUB_EVENT_TYPES = ("hub_visit", "guide_view", "tip_video_view", "screen_time_limit_set")


def every_day(df: pl.DataFrame, f: Filters, column: str, values: tuple[str, ...]) -> pl.DataFrame:
    """`df` (day, `column`, count_events) with a row for every day of the period and every
    value, 0 where nothing happened: a quiet day reads 0 on a chart instead of being skipped
    by its line. Filled here rather than in SQL: a few hundred rows, well under a millisecond."""
    grid = pl.DataFrame({"day": pl.date_range(f.start, f.end, "1d", eager=True)}).join(
        pl.DataFrame({column: list(values)}), how="cross"
    )
    return (
        grid.join(df, on=["day", column], how="left")
        .with_columns(pl.col("count_events").fill_null(0).cast(pl.Int64))
        .sort("day", column)
    )


def kpis(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> dict[str, int]:
    """Headline figures of the period (counts), keyed by column name."""
    return run(con, "kpis", f.params(s)).row(0, named=True)


def daily_trend(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    """day, metric (views, hub_visits, helpline_clicks, reports), count_events: every day."""
    return run(con, "daily_trend", f.params(s))


def weekly_rhythm(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    """day_of_week (1 = Monday), hour, count_events."""
    return run(con, "weekly_rhythm", f.params(s))


def reach_by_segment(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    """dimension (province, age_band, language), segment, count_unique_reach, count_views,
    count_engaged_users: every breakdown of the Audience page from one scan."""
    return run(con, "reach_by_segment", f.params(s))


def hub_totals(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> dict[str, int]:
    return run(con, "hub_totals", f.params(s)).row(0, named=True)


def hub_daily(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    """day, event_type (the four Hub event types), count_events: every day and type."""
    return every_day(run(con, "hub_daily", f.params(s)), f, "event_type", HUB_EVENT_TYPES)


def tip_videos_by_partner(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    names = {p.id: p.name for p in s.partners}
    df = run(con, "tip_videos_by_partner", f.params(s))
    return df.with_columns(partner=pl.col("partner_id").replace_strict(names, default=pl.col("partner_id")))


def referral_funnel(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters, dimension: str) -> pl.DataFrame:
    """segment, count_shown, count_clicked, count_contacted (raw counts: suppress before showing)."""
    assert dimension in ("partner_id", "entry_point", "channel")
    return run(con, "referral_funnel", {**f.params(s), "dimension": dimension}).fill_null(0)


def referral_daily(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    """day, stage (shown, clicked, contacted), count_events: every day and stage."""
    return every_day(run(con, "referral_daily", f.params(s)), f, "stage", REFERRAL_STAGES)


def safety_totals(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> dict[str, int]:
    return run(con, "safety_totals", f.params(s)).row(0, named=True)


def safety_by_policy(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    return run(con, "safety_by_policy", f.params(s))


def safety_daily(con: duckdb.DuckDBPyConnection, s: Settings, f: Filters) -> pl.DataFrame:
    """day, action (CONTRACT §2's seven), count_events: every day and action."""
    return every_day(run(con, "safety_daily", f.params(s)), f, "action", SAFETY_ACTIONS)


def quarantine_by_reason(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per stream × first reason × file (pages/quarantine_by_reason.sql), with the row
    values the declared details of the reasons name (core/reasons.py)."""
    return run(
        con,
        "quarantine_by_reason",
        {"event_type_codes": reasons.naming("event_type"), "action_codes": reasons.naming("action")},
    )


def unreadable_files(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return run(con, "unreadable_files", {})


def alert_incidents(con: duckdb.DuckDBPyConnection, since: dt.date) -> pl.DataFrame:
    """Alert incidents open, or changed since `since` (queries/alerts.py, pages/alert_incidents.sql)."""
    from queries import alerts

    return alerts.alert_incidents(con, dt.datetime.combine(since, dt.time(), dt.UTC))
