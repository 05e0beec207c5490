"""The daily page queries give every day of the period and every value, 0 where nothing
happened (a quiet day must read 0 on a chart, not be skipped by its line): on the fixture
warehouse built by the real refresh (tests/dashboard_fixtures.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from core.settings import Settings
from queries import pages
from queries.filters import Filters
from tests.dashboard_fixtures import build

WEEK = Filters(dt.date(2026, 10, 10), dt.date(2026, 10, 16))


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    d = build(tmp_path_factory.mktemp("daily") / "data")
    with pages.reader(d) as c:
        yield c


def test_referral_daily_has_every_day_and_stage(con) -> None:
    df = pages.referral_daily(con, Settings(), WEEK)
    assert df.height == 7 * 3
    assert df.filter(pl.col("day") == dt.date(2026, 10, 12)).rows() == [
        (dt.date(2026, 10, 12), "clicked", 3),
        (dt.date(2026, 10, 12), "contacted", 1),
        (dt.date(2026, 10, 12), "shown", 12),
    ]
    assert df.filter(pl.col("day") != dt.date(2026, 10, 12))["count_events"].sum() == 0


def test_hub_and_safety_daily_have_every_day_and_value(con) -> None:
    hub = pages.hub_daily(con, Settings(), WEEK)
    assert hub.height == 7 * 4 and hub["count_events"].sum() == 3
    assert hub.filter((pl.col("day") == dt.date(2026, 10, 12)) & (pl.col("event_type") == "hub_visit"))[
        "count_events"
    ].to_list() == [3]
    safety = pages.safety_daily(con, Settings(), WEEK)
    assert safety.height == 7 * 7 and set(safety["action"]) == {
        "report",
        "block",
        "unblock",
        "comment_filter_on",
        "comment_filter_off",
        "removal",
        "restore",
    }
    assert safety.filter(pl.col("action") == "report")["count_events"].sum() == 2
