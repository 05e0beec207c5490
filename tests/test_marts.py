"""The marts as declared data (pipelines/marts.py): grain unique in a refreshed lake, an
incremental fold equal to a whole build for every mart, no SQL text rewritten, dependency order."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest

import pipelines.marts as marts
from core.datadir import DataDir
from core.settings import Settings
from core.sqlfiles import mart_names, sql
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.marts import MARTS, Mart, MartDeclarationError, build_order, fixed_utc_offset_us, merge
from pipelines.refresh import refresh as refresh_with
from queries.warehouse import published
from tests.conftest import define_load_tables
from tests.test_refresh import NOW, SETTINGS, count, refresh, view, write_file

END = dt.date(2026, 11, 24)


def full_build_params() -> dict:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return {
        "tz": SETTINGS.timezone,
        "tracked": sorted(SETTINGS.tracked_hashtags),
        "full": True,
        "utc_offset_us": None,  # ICU's conversion: the lake's marts were built with the offset
        "days": [],
        "from_utc": epoch,
        "to_utc": epoch,
    }


def differences_from_a_whole_build(d: DataDir) -> dict[str, int]:
    """Per mart, the rows that differ between the lake's mart and its statement run whole."""
    out = {}
    with published(d) as con:
        define_load_tables(con)
        for mart in MARTS:
            select = sql(f"marts/{mart.name}", "pipelines")
            used = {k: v for k, v in full_build_params().items() if f"${k}" in select}
            out[mart.name] = con.execute(
                f"with fresh as ({select}) select count(*) from ((select * from {mart.name} except all from fresh) "
                f"union all (from fresh except all select * from {mart.name}))",
                used,
            ).fetchall()[0][0]
    return out


def add_second_load(d: DataDir, scratch: Path) -> None:
    """Demo data of another seed, ending 10 days later (overlapping days, people and segments),
    copied into the landing zone under new names: the second, incremental load."""
    other = DataDir(scratch / "other").ensure()
    write_demo_data(SETTINGS, other, DemoSpec(days=20, scale=0.05, seed=8, end=END + dt.timedelta(days=10)))
    for path in sorted(other.landing.rglob("*")):
        if path.is_file() and not path.is_symlink():
            target = d.landing / path.relative_to(other.landing).parent / f"second-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


@pytest.fixture(scope="module")
def two_loads(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    root = tmp_path_factory.mktemp("marts")
    d = DataDir(root / "data").ensure()
    write_demo_data(SETTINGS, d, DemoSpec(days=30, scale=0.05, seed=3, end=END))
    write_file(d, "engagement/movers-1.csv", [view(9001, user_id="mover-a"), view(9002, user_id="mover-b")])
    assert "marts_full_s" in refresh(d).timings
    add_second_load(d, root)
    write_file(  # mover-a is seen in a second segment; mover-b again in the first
        d,
        "engagement/movers-2.csv",
        [
            view(9003, user_id="mover-a", province="KH-1", event_time="2026-10-12T12:00:00Z"),
            view(9004, user_id="mover-b", event_time="2026-10-13T12:00:00Z"),
            view(9005, user_id="mover-b", age_band="25-34", event_time="2026-10-09T12:00:00Z"),
        ],
    )
    second = refresh(d)
    assert "marts_incremental_s" in second.timings
    assert second.streams["engagement"].loaded > 0 and second.streams["safety"].loaded > 0
    assert count(d, "select count(*) from mart_people_movers") == [(2,)]
    return d


# --- the declarations ----------------------------------------------------------------------


def test_every_mart_file_is_declared_once_and_every_declaration_has_its_file() -> None:
    assert sorted(m.name for m in MARTS) == mart_names()


def test_the_mart_sql_states_its_grain_and_carries_no_fold_marker() -> None:
    for mart in MARTS:
        text = sql(f"marts/{mart.name}", "pipelines")
        assert re.search(r"^-- Grain: one row per ", text, re.M), mart.name
        assert not re.search(r"^-- (merge|rebuild):", text, re.M), mart.name


def test_every_declared_grain_is_unique_in_a_refreshed_lake(two_loads: DataDir) -> None:
    for mart in MARTS:
        grain = ", ".join(mart.grain)
        rows, repeated = count(
            two_loads,
            f"select (select count(*) from {mart.name}), "
            f"(select count(*) from (select {grain} from {mart.name} group by all having count(*) > 1))",
        )[0]
        assert rows > 0 and repeated == 0, (mart.name, rows, repeated)


def test_a_merged_mart_is_its_grain_and_its_folded_columns(two_loads: DataDir) -> None:
    for mart in MARTS:
        columns = [c for (c,) in count(two_loads, f"select column_name from (describe {mart.name})")]
        assert set(mart.grain) <= set(columns), mart.name
        if mart.fold.kind in ("merge", "difference_people"):
            assert sorted(columns) == sorted([*mart.grain, *mart.fold.combine]), mart.name


def test_every_mart_folded_over_two_loads_equals_it_built_whole(two_loads: DataDir) -> None:
    assert differences_from_a_whole_build(two_loads) == {m.name: 0 for m in MARTS}


# --- no SQL text rewritten -----------------------------------------------------------------


def test_an_upper_case_from_in_a_mart_does_not_double_count(tmp_path: Path, monkeypatch) -> None:
    real = marts.sql

    def shouting(name: str, package: str = "queries") -> str:
        text = real(name, package)
        if name.startswith("marts/"):
            text = re.sub(r"\bfrom (\w+)", lambda m: f"FROM {m.group(1).upper()}", text)
        return text

    monkeypatch.setattr(marts, "sql", shouting)
    d = DataDir(tmp_path / "d").ensure()
    write_file(d, "engagement/a.csv", [view(1), view(2)])
    refresh(d)
    write_file(d, "engagement/b.csv", [view(3), view(4, event_time="2026-10-11T12:00:00Z")])
    assert "marts_incremental_s" in refresh(d).timings
    assert count(d, "select sum(count_events) from mart_engagement_daily") == [(4,)]
    assert count(d, "select sum(count_events) from mart_activity_hourly") == [(4,)]
    assert count(d, "select sum(count_views) from mart_totals_daily") == [(4,)]
    assert count(d, "select count(*) from mart_engagement_people_daily") == [(4,)]


# --- dependency order ----------------------------------------------------------------------


def test_a_mart_declared_before_what_it_reads_builds_after_it() -> None:
    order = [m.name for m in build_order(tuple(reversed(MARTS)))]
    for name in ("mart_people_returns", "mart_people_movers"):
        assert order.index(name) > order.index("mart_engagement_people_daily")


def test_marts_declared_in_reverse_build_and_fold_as_declared_in_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(marts, "BUILD_ORDER", build_order(tuple(reversed(MARTS))))
    d = DataDir(tmp_path / "data").ensure()
    write_demo_data(SETTINGS, d, DemoSpec(days=10, scale=0.02, seed=4, end=END))
    refresh(d)
    add_second_load(d, tmp_path)
    assert "marts_incremental_s" in refresh(d).timings
    assert differences_from_a_whole_build(d) == {m.name: 0 for m in MARTS}


def test_a_cycle_or_an_unknown_dependency_is_refused() -> None:
    a = Mart("mart_a", ("day",), ("mart_b",), merge(add=("n",)))
    b = Mart("mart_b", ("day",), ("mart_a",))
    with pytest.raises(MartDeclarationError, match=r"^the marts mart_a, mart_b depend on each other \(a cycle\)$"):
        build_order((a, b))
    c = Mart("mart_c", ("day",), ("engagement_event",))
    with pytest.raises(
        MartDeclarationError, match=r"^mart_c depends on engagement_event: neither a mart nor a source table$"
    ):
        build_order((c,))


def test_a_mart_declares_exactly_the_tables_and_marts_its_sql_reads() -> None:
    names = {m.name for m in MARTS} | marts.SOURCES
    for mart in MARTS:
        body = re.sub(r"--[^\n]*", "", sql(f"marts/{mart.name}", "pipelines"))  # without the comments
        read = {n for n in names if re.search(rf"\b(new_)?{n}\b", body)} - {mart.name}
        assert read == set(mart.depends_on), mart.name


# --- a load rewrites only what it changes ------------------------------------------------


def tables_the_last_load_changed(d: DataDir) -> set[str]:
    """The tables the lake's latest snapshot created, inserted into or deleted from (its own
    record, rows inlined in the catalog included; a created table is named `schema.table`)."""
    with published(d) as con:
        (alias,) = con.sql("select current_database()").fetchall()[0]
        names = dict(
            con.execute(f"select table_id::varchar, table_name from ducklake_table_info('{alias}')").fetchall()
        )
        ((changes,),) = con.sql(f"select changes from {alias}.snapshots() order by snapshot_id desc limit 1").fetchall()
    return {names.get(t) or t.removeprefix("main.") for ids in changes.values() for t in ids}


def test_a_load_of_one_stream_leaves_the_marts_of_the_others_as_they_were(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    write_demo_data(SETTINGS, d, DemoSpec(days=10, scale=0.02, seed=5, end=END))
    refresh(d)
    day = count(d, "select max(day)::varchar from mart_referral_daily")[0][0]
    write_file(d, "engagement/late.csv", [view(9101, event_time=f"{day}T05:00:00Z")])  # a day with referrals
    assert "marts_incremental_s" in refresh(d).timings
    changed = tables_the_last_load_changed(d) & {m.name for m in MARTS}
    assert {"mart_engagement_daily", "mart_totals_daily", "mart_engagement_people_daily"} <= changed
    assert not changed & {"mart_referral_daily", "mart_safety_daily"}
    assert differences_from_a_whole_build(d) == {m.name: 0 for m in MARTS}


# --- the campaign day ----------------------------------------------------------------------


def test_the_marts_use_a_fixed_utc_offset_only_where_the_zone_keeps_one() -> None:
    con = duckdb.connect()
    paris = Settings(timezone="Europe/Paris")
    assert fixed_utc_offset_us(con, SETTINGS, (dt.date(2026, 10, 1), dt.date(2026, 11, 30))) == 7 * 3_600_000_000
    assert fixed_utc_offset_us(con, paris, (dt.date(2026, 11, 1), dt.date(2026, 11, 30))) == 3_600_000_000
    assert fixed_utc_offset_us(con, paris, (dt.date(2026, 10, 20), dt.date(2026, 10, 30))) is None  # DST ends 25 Oct


def test_a_zone_with_daylight_saving_time_gives_each_event_its_own_day(tmp_path: Path) -> None:
    paris = Settings(timezone="Europe/Paris")
    d = DataDir(tmp_path / "d").ensure()
    # 00:30 on 25 October in summer time (UTC+2), 23:30 on 25 October in winter time (UTC+1):
    # one offset for both puts one of them on the wrong day.
    write_file(d, "engagement/a.csv", [view(1, event_time="2026-10-24T22:30:00Z")])
    assert "marts_full_s" in refresh_with(paris, d, settle_seconds=0, now=NOW).timings
    write_file(d, "engagement/b.csv", [view(2, event_time="2026-10-25T22:30:00Z")])
    assert "marts_incremental_s" in refresh_with(paris, d, settle_seconds=0, now=NOW).timings
    days = "select day::varchar, sum(count_events)::int from {} group by 1 order by 1"
    assert count(d, days.format("mart_engagement_daily")) == [("2026-10-25", 2)]
    assert count(d, days.format("mart_activity_hourly")) == [("2026-10-25", 2)]
    assert count(d, "select hour from mart_activity_hourly order by hour") == [(0,), (23,)]
