"""The Digital Wellness Hub page's figures (queries/sql/pages/hub_totals.sql, hub_daily.sql,
tip_videos_by_partner.sql) for every period and segment filter equal a computation straight from
engagement_events: its counts of each Hub event type, the watch time of tip-video views (exact
up to 2^53 ms), its daily counts and its tip-video views per partner; also after a refresh
with no new file built the mart on a lake made before it existed."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.marts import MARTS
from queries import pages as q
from queries.filters import Filters
from queries.warehouse import published
from tests import event_filters
from tests.test_marts import differences_from_a_whole_build, tables_the_last_load_changed
from tests.test_refresh import SETTINGS, count, refresh, view, write_file

END = dt.date(2026, 10, 20)
DAYS = [dt.date(2026, 10, 9), dt.date(2026, 10, 10), dt.date(2026, 10, 14), END]
SEGMENT_FILTERS = [
    {},
    {"provinces": ("KH-12",)},
    {"age_bands": ("18-24", "25-34")},
    {"provinces": ("KH-12", "KH-1"), "age_bands": ("18-24",), "languages": ("km",)},
]
TIP = {"event_type": "tip_video_view", "video_id": "tip_tpo_1", "partner_id": "tpo-cambodia"}
# a day and a segment with tip-video views with and without a watch time, next to other Hub events
HANDMADE = [
    view(9001, **TIP, watch_time_ms="30000"),
    view(9002, **TIP, watch_time_ms=""),
    # the largest watch time validation accepts, ten times: past 2^63 in one row of the mart
    *[view(9010 + i, **TIP, watch_time_ms="999999999999999999") for i in range(10)],
    view(9005, event_type="hub_visit", video_id="", hashtags="", province="KH-1"),
    view(9006, event_type="screen_time_limit_set", video_id="", hashtags="", age_band="25-34"),
]


def from_events(events, f: Filters) -> tuple[dict, list, dict]:
    """The Hub's counts (all but the distinct visitors), its daily rows and its tip-video views
    per partner, from the events."""
    where, params = event_filters.WHERE, event_filters.params(f)
    (totals,) = events.execute(
        "select count(*) filter (where event_type = 'hub_visit'), count(*) filter (where event_type = 'guide_view'), "
        "count(*) filter (where event_type = 'tip_video_view'), "
        "coalesce(sum(watch_time_ms) filter (where event_type = 'tip_video_view'), 0)::double, "
        f"count(*) filter (where event_type = 'screen_time_limit_set') from engagement_events {where}",
        params,
    ).fetchall()
    names = ("count_hub_visits", "count_guide_views", "count_tip_video_views", "sum_tip_video_watch_time_ms")
    daily = events.execute(
        "select timezone($tz, event_at)::date as day, event_type, count(*) from engagement_events "
        f"{where} and event_type in ('hub_visit', 'guide_view', 'tip_video_view', 'screen_time_limit_set') "
        "group by all order by all",
        params,
    ).fetchall()
    partners = events.execute(
        "select partner_id, count(*) from engagement_events "
        f"{where} and event_type = 'tip_video_view' and partner_id is not null group by all",
        params,
    ).fetchall()
    return dict(zip([*names, "count_screen_time_limits"], totals, strict=True)), daily, dict(partners)


def assert_hub_figures_are_the_events(d: DataDir) -> int:
    """Every filter's Hub figures against the events; how many filters had Hub activity."""
    busy = 0
    with q.reader(d) as con, published(d) as events:
        for (start, end), segments in itertools.product(
            itertools.combinations_with_replacement(DAYS, 2), SEGMENT_FILTERS
        ):
            f = Filters(start, end, **segments)
            totals, daily, partners = from_events(events, f)
            got = q.hub_totals(con, SETTINGS, f)
            watch = totals.pop("sum_tip_video_watch_time_ms")
            assert {k: got[k] for k in totals} == totals, f
            # exact to 2^53 ms; past it a float (the lake's Parquet files store 128-bit sums so)
            assert got["sum_tip_video_watch_time_ms"] == (
                watch if watch < 2**53 else pytest.approx(watch, rel=1e-15)
            ), f
            shown = q.hub_daily(con, SETTINGS, f)
            assert [r for r in shown.iter_rows() if r[2]] == daily, f
            assert shown.height == ((end - start).days + 1) * 4, f  # every day and type, 0 where none
            tips = q.tip_videos_by_partner(con, SETTINGS, f)
            assert dict(tips.select("partner_id", "count_tip_video_views").iter_rows()) == partners, f
            busy += bool(daily)
    return busy


@pytest.fixture(scope="module")
def hub_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    d = DataDir(tmp_path_factory.mktemp("hub") / "data").ensure()
    write_demo_data(SETTINGS, d, DemoSpec(days=12, scale=0.02, seed=5, end=END))
    write_file(d, "engagement/handmade.csv", HANDMADE)
    refresh(d)
    return d


def test_the_hub_figures_are_the_events_for_every_period_and_segment(hub_warehouse: DataDir) -> None:
    (tips,) = count(hub_warehouse, "select count(*) from engagement_events where event_type = 'tip_video_view'")[0]
    assert tips > len(HANDMADE)
    assert assert_hub_figures_are_the_events(hub_warehouse) > 20
    with q.reader(hub_warehouse) as con:
        day = q.hub_totals(con, SETTINGS, Filters(DAYS[1], DAYS[1], ("KH-12",), ("18-24",), ("km",)))
    assert day["sum_tip_video_watch_time_ms"] > 10 * 999999999999999999 > 2**63  # no overflow


def test_a_refresh_with_no_new_file_builds_a_mart_declared_since_the_last_load(
    hub_warehouse: DataDir, tmp_path: Path
) -> None:
    d = DataDir(tmp_path / "data")
    shutil.copytree(hub_warehouse.root, d.root, symlinks=True)
    con = connect_lake(Settings(), d)  # as the version before this mart left the lake
    try:
        con.execute("drop table mart_hub_daily")
    finally:
        con.close()
    result = refresh(d)  # no new file: the mart is built whole, the others are left as they were
    assert result.published and result.files["new"] == 0
    assert tables_the_last_load_changed(d) & {m.name for m in MARTS} == {"mart_hub_daily"}
    assert assert_hub_figures_are_the_events(d) > 20
    assert differences_from_a_whole_build(d)["mart_hub_daily"] == 0
    assert not refresh(d).published  # then nothing is behind: nothing to publish
