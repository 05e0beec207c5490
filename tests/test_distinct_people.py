"""Distinct people on the pages (mart_people_returns, mart_people_movers): for every period and
segment filter, the Overview's, Audience's and Hub's distinct counts equal a count(distinct) over the
events themselves, also for people seen in several segments and after incremental loads that
bring late days, new segments and new people."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import duckdb
import pytest

from core.datadir import DataDir
from core.sqlfiles import sql
from queries import pages as q
from queries.filters import Filters
from queries.warehouse import published
from tests import event_filters
from tests.conftest import define_load_tables
from tests.test_refresh import SETTINGS, count, refresh, write_file

DAYS = [dt.date(2026, 10, 10) + dt.timedelta(days=i) for i in range(8)]
SEGMENT_FILTERS = [
    {},
    {"provinces": ("KH-12",)},
    {"provinces": ("KH-12", "KH-1")},
    {"age_bands": ("25-34",)},
    {"provinces": ("KH-12",), "age_bands": ("18-24",), "languages": ("km",)},
    {"languages": ("en", "km")},
]
MEASURES = {  # page column: the events that make a person count
    "count_unique_reach": "is_campaign and event_type = 'view'",
    "count_engaged_users": "is_campaign and event_type in ('like', 'comment', 'share', 'favorite')",
    "count_hub_visitors": "event_type = 'hub_visit'",
}


def event(n: int, user: str, day: int, event_type: str = "view", **over: str) -> dict:
    """One event of `user` at noon (campaign time) on DAYS[day]."""
    row = {
        "event_id": f"p{n}",
        "event_time": f"{DAYS[day].isoformat()}T05:00:00Z",
        "user_id": user,
        "event_type": event_type,
        "video_id": "v1",
        "hashtags": "#MentalWell",
        "province": "KH-12",
        "age_band": "18-24",
        "language": "km",
    }
    if event_type == "hub_visit":
        del row["video_id"], row["hashtags"]
    return {**row, **over}


FIRST_LOAD = [
    event(1, "steady", 0),
    event(2, "steady", 3),
    event(3, "steady", 6),
    event(4, "mover", 0),
    event(5, "mover", 2, province="KH-1"),  # another province
    event(6, "mover", 4),
    event(7, "ager", 1),
    event(8, "ager", 3, age_band="25-34"),  # same province, another age band
    event(9, "twice", 2),
    event(10, "twice", 2, province="KH-1", language="en"),  # two segments on one day
    event(11, "fan", 1, "like"),
    event(12, "fan", 5, "share", province="KH-1"),
    event(13, "fan", 2, "hub_visit"),
    event(14, "fan", 4, "hub_visit"),
    event(15, "other", 5, hashtags="#cooking"),  # not a campaign video
    event(16, "late", 1),
    event(17, "late", 7),
    event(18, "maker", 2, "post", creator_id="c1"),
]
SECOND_LOAD = [  # an incremental load
    event(101, "late", 4),  # a late day between two days already loaded
    event(102, "steady", 5, age_band="25-34"),  # a steady person becomes a mover
    event(103, "newcomer", 7),
    event(104, "fan", 3, "hub_visit"),  # a late Hub visit between two
    event(105, "mover", 7, province="KH-3", language="en"),
]


def from_events(events: duckdb.DuckDBPyConnection, f: Filters, group: str | None = None) -> dict:
    """The distinct people of each measure straight from engagement_events (on a connection to
    the published lake: one transaction for all the filters, not one per query)."""
    measures = ", ".join(f"count(distinct user_key) filter (where {w}) as {c}" for c, w in MEASURES.items())
    measures += ", count(*) filter (where is_campaign and event_type = 'view') as count_views"
    key = f"{group}, " if group else ""
    rows = events.execute(
        f"select {key}{measures} from engagement_events {event_filters.WHERE}"
        + (f" group by {group}" if group else ""),
        event_filters.params(f),
    ).fetchall()
    if group is None:
        return dict(zip([*MEASURES, "count_views"], rows[0], strict=True))
    return {r[0]: r[1:] for r in rows}


def filters() -> list[Filters]:
    return [
        Filters(start, end, **segments)
        for (start, end), segments in itertools.product(
            itertools.combinations_with_replacement(DAYS, 2), SEGMENT_FILTERS
        )
    ]


def assert_pages_count_exactly(d: DataDir) -> None:
    with q.reader(d) as con, published(d) as events:
        for f in filters():
            kpis = q.kpis(con, SETTINGS, f)
            expected = from_events(events, f)
            assert {c: kpis[c] for c in expected} == expected, f
            assert q.hub_totals(con, SETTINGS, f)["count_hub_visitors"] == expected["count_hub_visitors"], f
            by_segment = q.reach_by_segment(con, SETTINGS, f)
            for dimension in ("province", "age_band", "language"):
                rows = by_segment.filter(dimension=dimension)
                got = {
                    r["segment"]: (r["count_unique_reach"], r["count_engaged_users"])
                    for r in rows.iter_rows(named=True)
                    if r["count_unique_reach"] or r["count_engaged_users"]
                }
                segments = from_events(events, f, dimension)
                want = {seg: (reach, engaged) for seg, (reach, engaged, _, _) in segments.items()}
                assert got == {seg: v for seg, v in want.items() if any(v)}, (f, dimension)
                views = {r["segment"]: r["count_views"] for r in rows.iter_rows(named=True) if r["count_views"]}
                assert views == {seg: v[3] for seg, v in segments.items() if v[3]}, (f, dimension)


@pytest.fixture(scope="module")
def people_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    d = DataDir(tmp_path_factory.mktemp("people") / "data").ensure()
    write_file(d, "engagement/first.csv", FIRST_LOAD)
    refresh(d)
    return d


def test_every_period_and_segment_counts_each_person_once(people_warehouse: DataDir) -> None:
    d = people_warehouse
    movers = {n for (n,) in count(d, "select user_number from mart_people_movers")}
    assert len(movers) == 4  # mover, ager, twice, fan (liked in KH-1)
    with q.reader(d) as con:
        whole = q.kpis(con, SETTINGS, Filters(DAYS[0], DAYS[-1]))
    # viewers: steady, mover, ager, twice, late; engaged: fan; Hub: fan
    assert [whole[c] for c in MEASURES] == [5, 1, 1]
    assert_pages_count_exactly(d)


def test_an_incremental_load_with_late_days_and_new_segments_counts_exactly(
    people_warehouse: DataDir, tmp_path: Path
) -> None:
    d = DataDir(tmp_path / "data")
    shutil.copytree(people_warehouse.root, d.root, symlinks=True)
    write_file(d, "engagement/second.csv", SECOND_LOAD)
    result = refresh(d)
    assert "marts_incremental_s" in result.timings
    assert count(d, "select count(*) from mart_people_movers")[0][0] == 5  # steady has moved
    assert_pages_count_exactly(d)
    # and the two marts hold what a full rebuild would
    with published(d) as con:
        define_load_tables(con)
        for name in ("mart_people_returns", "mart_people_movers"):
            fresh = sql(f"marts/{name}", "pipelines")
            diff = con.execute(
                f"with fresh as ({fresh}) select count(*) from ((select * from {name} except all from fresh) "
                f"union all (from fresh except all select * from {name}))",
                {k: v for k, v in {"full": True, "days": []}.items() if f"${k}" in fresh},
            ).fetchall()[0][0]
            assert diff == 0, name


@pytest.mark.parametrize(
    ("mart", "grain"),
    [
        ("mart_people_returns", "measure, day, prev_day, province, age_band, language"),
        ("mart_people_movers", "user_number"),
        ("mart_campaign_creators", "day, province, age_band, language, creator_id"),
        ("mart_totals_daily", "day, province, age_band, language"),
    ],
)
def test_the_page_marts_have_their_documented_grain(people_warehouse: DataDir, mart: str, grain: str) -> None:
    assert grain.split(", ")[0] in sql(f"marts/{mart}", "pipelines")
    rows, distinct = count(people_warehouse, f"select count(*), count(distinct ({grain})) from {mart}")[0]
    assert rows == distinct > 0


def test_the_overview_totals_add_up_to_the_events(people_warehouse: DataDir) -> None:
    totals = count(people_warehouse, "select sum(count_views), sum(count_hub_visits) from mart_totals_daily")[0]
    events = count(
        people_warehouse,
        "select count(*) filter (where is_campaign and event_type = 'view'), "
        "count(*) filter (where event_type = 'hub_visit') from engagement_events",
    )[0]
    assert totals == events
