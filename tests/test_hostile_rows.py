"""Hostile rows (issue 14): values no exporter should send, each quarantined with its reason
while the refresh goes on. Real refreshes on real DuckDB files in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.errors import ConfigError
from core.settings import Settings, settings_from_dict
from pipelines import refresh as r
from pipelines.demo_data import DemoSpec, write_demo_data
from queries import pages as q
from queries.filters import Filters
from queries.status import snapshot_status
from tests.test_refresh import NOW, count, refresh, view, write_file

FORMATS = ["csv", "csv.gz", "jsonl", "ndjson", "jsonl.gz", "parquet"]


def reasons(d: DataDir) -> list[tuple[str, str]]:
    """(event_id from the row's values, first reason) of every quarantined row, sorted."""
    rows = count(d, "select row_json, reason from quarantine_rows")
    return sorted((json.loads(j).get("event_id"), r) for j, r in rows)


# --- 1. events before validation.earliest ------------------------------------------------

ANCIENT = {
    "y0": "0000-01-01T00:00:00Z",  # DuckDB reads it as 1 BC
    "y1": "0001-01-01T00:00:00Z",
    "y1900": "1900-01-01T00:00:00Z",
    "y1969": "1969-12-31T23:59:59Z",
    "just_before": "1999-12-31T16:59:59Z",  # 23:59:59 on 1999-12-31 in Phnom Penh
}


@pytest.mark.parametrize("ext", FORMATS)
def test_events_before_earliest_are_quarantined_and_every_later_refresh_works(tmp_path: Path, ext: str) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(d, f"engagement/good.{ext}", [view(1, event_id="good")])
    assert refresh(d).streams["engagement"].loaded == 1
    old = [view(i, event_id=k, event_time=t) for i, (k, t) in enumerate(ANCIENT.items())]
    # 00:00 on 2000-01-01 in the campaign timezone is the first moment accepted
    old.append(view(9, event_id="first_moment", event_time="1999-12-31T17:00:00Z"))
    write_file(d, f"engagement/old.{ext}", old)
    second = refresh(d).streams["engagement"]  # an incremental load: the mart build used to crash here
    assert (second.read, second.loaded, second.quarantined) == (6, 1, 5)
    assert dict(second.by_reason) == {"event_time: before validation.earliest": 5}
    assert reasons(d) == sorted((k, "event_time: before validation.earliest (2000-01-01)") for k in ANCIENT)
    write_file(d, f"engagement/later.{ext}", [view(2, event_id="later", event_time="2026-10-11T12:00:00Z")])
    assert refresh(d).streams["engagement"].loaded == 1
    status = snapshot_status(d, Settings())
    assert (status["first_day"], status["last_day"]) == ("2000-01-01", "2026-10-11")
    assert status["streams"]["engagement"]["quarantined"] == 5


def test_a_first_load_with_year_zero_builds_its_marts(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(
        d,
        "referral/r.jsonl",
        [
            {
                "event_id": "r0",
                "event_time": "0000-01-01T00:00:00Z",
                "user_id": "u",
                "partner_id": "tpo-cambodia",
                "stage": "shown",
            },
            {
                "event_id": "r1",
                "event_time": "2026-10-10T05:00:00Z",
                "user_id": "u",
                "partner_id": "tpo-cambodia",
                "stage": "shown",
            },
        ],
    )
    write_file(
        d,
        "safety/s.csv",
        [
            {
                "event_id": "s0",
                "event_time": "-62167219200",
                "user_id": "u",
                "action": "block",
                "target_type": "account",
                "target_id": "a",
            },
            {
                "event_id": "s1",
                "event_time": "946684799",
                "user_id": "u",
                "action": "block",
                "target_type": "account",
                "target_id": "a",
            },  # 1999-12-31T23:59:59Z: 2000-01-01 in Phnom Penh, accepted
        ],
    )
    result = refresh(d)
    assert (result.streams["referral"].loaded, result.streams["referral"].quarantined) == (1, 1)
    assert dict(result.streams["referral"].by_reason) == {"event_time: before validation.earliest": 1}
    assert (result.streams["safety"].loaded, result.streams["safety"].quarantined) == (1, 1)
    assert dict(result.streams["safety"].by_reason) == {"event_time: not ISO-8601 or epoch seconds": 1}
    assert snapshot_status(d, Settings())["first_day"] == "2000-01-01"


def test_earliest_comes_from_the_config(tmp_path: Path) -> None:
    settings = settings_from_dict({"validation": {"earliest": dt.date(2026, 10, 1)}})
    assert settings.validation.earliest == dt.date(2026, 10, 1)
    assert Settings().validation.earliest == dt.date(2000, 1, 1)
    d = DataDir(tmp_path / "d").ensure()
    write_file(
        d,
        "engagement/e.jsonl",
        [
            view(1, event_time="2026-09-30T16:59:59Z"),  # 23:59:59 on 30 September in Phnom Penh
            view(2, event_time="2026-09-30T17:00:00Z"),
        ],
    )
    c = r.refresh(settings, d, settle_seconds=0, now=NOW).streams["engagement"]
    assert (c.loaded, c.quarantined) == (1, 1)
    assert reasons(d) == [("e1", "event_time: before validation.earliest (2026-10-01)")]


def test_a_bad_earliest_is_refused_with_one_line() -> None:
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"validation": {"earliest": "last year"}})
    assert str(e.value).startswith("campaign.toml: validation.earliest: input should be a valid date")
    with pytest.raises(ConfigError) as e:
        settings_from_dict({"validation": {"earliest_day": dt.date(2020, 1, 1)}})
    assert str(e.value) == (
        "campaign.toml: validation.earliest_day: unknown key; see the README's configuration table for the keys"
    )


# --- 3. JSON-lines field names: case is resolved per line ---------------------------------


@pytest.mark.parametrize("ext", ["jsonl", "ndjson", "jsonl.gz"])
def test_json_field_name_case_is_resolved_per_line(tmp_path: Path, ext: str) -> None:
    d = DataDir(tmp_path / "d").ensure()
    rows = [view(i) for i in range(50)]
    shouted = {k.upper(): v for k, v in view(50).items()}
    mixed = {
        "Event_Id": "e51",
        "EVENT_TIME": "2026-10-10T12:00:00Z",
        "user_ID": "user-51",
        "Event_Type": "view",
        "video_id": "v1",
    }
    write_file(d, f"engagement/mixed.{ext}", [*rows[:25], shouted, *rows[25:], mixed])
    c = refresh(d).streams["engagement"]
    assert (c.read, c.loaded, c.quarantined) == (52, 52, 0)
    assert count(
        d, "select count(distinct user_key), count(*) filter (where province = 'KH-12') from engagement_events"
    ) == [(52, 51)]


def test_a_field_given_twice_in_different_case_takes_the_lower_case_spelling(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(
        d,
        "engagement/twice.jsonl",
        [
            {**view(1), "VIDEO_ID": "shouted"},  # both spellings: the lower-case one wins
            {**{k: v for k, v in view(2).items() if k != "video_id"}, "Video_Id": "b", "VIDEO_ID": "a"},  # first sorted
            {**view(3), "video_id": None, "VIDEO_ID": "fallback"},  # an empty spelling gives way
        ],
    )
    c = refresh(d).streams["engagement"]
    assert (c.loaded, c.quarantined) == (3, 0)
    assert count(d, "select event_id, video_id from engagement_events order by 1") == [
        ("e1", "v1"),
        ("e2", "a"),
        ("e3", "fallback"),
    ]


@pytest.mark.parametrize("ext", FORMATS)
def test_a_column_named_twice_in_different_case_reads_the_same_in_every_format(tmp_path: Path, ext: str) -> None:
    d = DataDir(tmp_path / "d").ensure()
    base = {"event_time": "2026-10-10T12:00:00Z", "event_type": "view"}
    write_file(
        d,
        f"engagement/twice.{ext}",
        [  # the lower-case spelling first, then the others sorted; a blank one gives way
            {"event_id": "t1", **base, "user_id": "u1", "USER_ID": "other", "video_id": "v1", "Video_Id": "b"},
            {"event_id": "t2", **base, "user_id": "", "USER_ID": "u2", "video_id": " ", "Video_Id": "b"},
            {"event_id": "t3", **base, "user_id": None, "USER_ID": "u3", "video_id": None, "Video_Id": None},
        ],
    )
    result = refresh(d)
    assert result.files["unreadable"] == []
    c = result.streams["engagement"]
    assert (c.read, c.loaded, dict(c.by_reason)) == (3, 2, {"video_id: missing": 1})
    assert count(d, "select event_id, video_id from engagement_events order by 1") == [("t1", "v1"), ("t2", "b")]
    assert count(d, "select count(distinct user_key) from engagement_events") == [(2,)]


# --- 12. control characters in event_id ---------------------------------------------------

CONTROL = {
    "nul": "e\x00nul",
    "tab": "e\ttab",
    "newline": "e\nnl",
    "escape": "e\x1besc",
    "delete": "e\x7fdel",
    "c1": "e\x85nel",
    "leading_tab": "\tlead",
}


@pytest.mark.parametrize("ext", FORMATS)
def test_control_characters_in_event_id_are_quarantined(tmp_path: Path, ext: str) -> None:
    d = DataDir(tmp_path / "d").ensure()
    rows = [view(i, event_id=v) for i, v in enumerate(CONTROL.values())]
    rows.append(view(99, event_id="ok-ក-👍🏽"))
    write_file(d, f"engagement/ctl.{ext}", rows)
    c = refresh(d).streams["engagement"]
    assert (c.read, c.loaded, c.quarantined) == (8, 1, 7)
    assert dict(c.by_reason) == {"event_id: contains control characters": 7}
    assert count(d, "select event_id from engagement_events") == [("ok-ក-👍🏽",)]
    assert sorted(e for e, _ in reasons(d)) == sorted(CONTROL.values())


# --- 2 (rows). field-length limits -------------------------------------------------------


def test_field_length_limits_quarantine_the_row_and_name_the_field(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    khmer = "ក"  # one character, three bytes: limits count characters
    tags = " ".join(["#MentalWell"] * 170) + " #ab"  # 170 * 12 + 4 = 2,044 characters
    write_file(
        d,
        "engagement/long.jsonl",
        [
            view(1, event_id="x" * 128, user_id=khmer * 256, video_id=khmer * 256, hashtags=tags.ljust(2048, "x")),
            view(2, event_id="x" * 129),
            view(3, user_id="u" * 257),
            view(4, video_id="v" * 257),
            view(5, event_type="post", creator_id="c" * 257),
            view(6, event_type="tip_video_view", partner_id="p" * 257),
            view(7, hashtags=tags.ljust(2049, "x")),
            view(8, user_id=khmer * 257, hashtags=khmer * 2049),
        ],
    )
    write_file(
        d,
        "referral/long.csv",
        [
            {
                "event_id": "r1",
                "event_time": "2026-10-10T05:00:00Z",
                "user_id": "u",
                "partner_id": "t" * 257,
                "stage": "shown",
            },
        ],
    )
    write_file(
        d,
        "safety/long.parquet",
        [
            {
                "event_id": "s1",
                "event_time": "2026-10-10T05:00:00Z",
                "user_id": "u",
                "action": "block",
                "target_type": "account",
                "target_id": "a" * 256,
            },
            {
                "event_id": "s2",
                "event_time": "2026-10-10T05:00:00Z",
                "user_id": "u",
                "action": "block",
                "target_type": "account",
                "target_id": "a" * 257,
            },
        ],
    )
    result = refresh(d)
    eng = result.streams["engagement"]
    assert (eng.read, eng.loaded, eng.quarantined) == (8, 1, 7)
    assert dict(eng.by_reason) == {
        "event_id: longer than 128 characters": 1,
        "user_id: longer than 256 characters": 2,
        "video_id: longer than 256 characters": 1,
        "creator_id: longer than 256 characters": 1,
        "partner_id: longer than 256 characters": 1,
        "hashtags: longer than 2,048 characters": 2,
    }
    assert dict(result.streams["referral"].by_reason) == {"partner_id: longer than 256 characters": 1}
    assert (result.streams["safety"].loaded, dict(result.streams["safety"].by_reason)) == (
        1,
        {"target_id: longer than 256 characters": 1},
    )
    both = count(d, "select reasons from quarantine_rows where line = 8 and stream = 'engagement'")
    assert both == [(["user_id: longer than 256 characters", "hashtags: longer than 2,048 characters"],)]
    # the quarantine holds the keyed hash of a too-long user_id, never the raw value
    assert "u" * 257 not in "".join(j for (j,) in count(d, "select row_json from quarantine_rows"))


# --- 13. watch time on tip-video views -----------------------------------------------------


def test_tip_video_views_carry_watch_time_to_the_hub_totals(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    tip = {
        "event_type": "tip_video_view",
        "video_id": "tip_tpo_1",
        "partner_id": "tpo-cambodia",
        "surface": "wellness_hub",
    }
    write_file(
        d,
        "engagement/tips.csv",
        [
            view(1, **tip, watch_time_ms="30000"),
            view(2, **tip, watch_time_ms="45500"),
            view(3, **tip, watch_time_ms=""),
            view(4, watch_time_ms="1000"),  # a view: counted with views, not tip videos
            view(5, event_type="like", watch_time_ms="5000"),
        ],
    )
    c = refresh(d).streams["engagement"]
    assert (c.loaded, c.quarantined) == (4, 1)
    assert reasons(d) == [("e5", "watch_time_ms: only allowed on views and tip-video views")]
    assert dict(c.by_reason) == {"watch_time_ms: only allowed on views and tip-video views": 1}
    s = Settings()
    f = Filters(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    with q.reader(d) as con:
        totals = q.hub_totals(con, s, f)
    assert (totals["count_tip_video_views"], totals["sum_tip_video_watch_time_ms"]) == (3, 75_500)


def test_demo_data_has_tip_video_watch_times_and_they_load(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_demo_data(Settings(), d, DemoSpec(days=14, scale=0.05, seed=3, end=dt.date(2026, 10, 20)))
    refresh(d)
    with q.reader(d) as con:  # the page reads the marts
        totals = q.hub_totals(con, Settings(), Filters(start=dt.date(2026, 10, 7), end=dt.date(2026, 10, 20)))
    ((with_watch, tips),) = count(  # the events, in the lake
        d, "select count(watch_time_ms), count(*) from engagement_events where event_type = 'tip_video_view'"
    )
    assert tips > 0 and 0.7 < with_watch / tips < 0.9  # about 80% of tip-video views carry one
    assert totals["sum_tip_video_watch_time_ms"] > 0


def test_the_largest_whole_numbers_add_up_on_every_page(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    big = "999999999999999999"  # the largest watch time or view count validation accepts (18 digits)
    tip = {"event_type": "tip_video_view", "video_id": "tip_tpo_1", "partner_id": "tpo-cambodia"}
    write_file(d, "engagement/big.csv", [view(i, **tip, watch_time_ms=big) for i in range(20)])
    removal = {
        "event_time": "2026-10-10T05:00:00Z",
        "user_id": "",
        "action": "removal",
        "target_type": "video",
        "target_id": "t",
        "policy": "spam",
        "detection": "proactive",
        "views_at_action": big,
    }
    write_file(d, "safety/big.csv", [{"event_id": f"s{i}", **removal} for i in range(20)])
    result = refresh(d)
    assert (result.streams["engagement"].loaded, result.streams["safety"].loaded) == (20, 20)
    # stored exactly (not through a double, which would make them 10^18)
    assert count(d, "select distinct watch_time_ms from engagement_events") == [(int(big),)]
    assert count(d, "select distinct views_at_action from safety_events") == [(int(big),)]
    s, f = Settings(), Filters(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    with q.reader(d) as con:
        totals = q.hub_totals(con, s, f)
        for page in (
            q.kpis,
            q.daily_trend,
            q.hub_daily,
            q.tip_videos_by_partner,
            q.safety_totals,
            q.safety_by_policy,
            q.safety_daily,
        ):
            page(con, s, f)
    assert totals["sum_tip_video_watch_time_ms"] == pytest.approx(20 * int(big), rel=1e-15)  # a float: no overflow
