"""Every page query's `order by` is total: its keys identify a row, so rows with equal counts come
out in one order, the documented one, on every reload and for every role (ties left to DuckDB
came out in a different order on the phone and the desktop shots of Data health). On a lake
built with ties on purpose: two files with the same rejected reason once each, two policies with
one report each, two partners with one tip-video view each."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.datadir import DataDir
from core.settings import Settings
from core.sqlfiles import sql
from pipelines.refresh import refresh
from queries import pages
from queries.filters import Filters
from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build, eng
from tests.test_refresh import write_file

PAGE_SQL = REPO / "queries" / "sql" / "pages"
PERIOD = Filters(dt.date(2026, 10, 10), dt.date(2026, 10, 16))
ORDERED = sorted(p.stem for p in PAGE_SQL.glob("*.sql") if re.search(r"\border by\b", p.read_text(encoding="utf-8")))


def build_with_ties(root: Path) -> DataDir:
    """tests/dashboard_fixtures.build, the ties of this module's docstring and the test accounts."""
    d = build(root)
    day = "2026-10-13T05:00:00Z"
    # the same reason once in each file (a tie on count, stream and reason), and four reasons
    # once each (ties on the count in the page's table by reason)
    write_file(d, "engagement/2026/10/13/ties-a.csv", [eng(100, "u9", "view", video_id="")])
    write_file(
        d,
        "engagement/2026/10/13/ties-b.csv",
        [
            eng(101, "u9", "view", video_id=""),
            eng(102, "u9", "view", surface="nowhere"),
            eng(103, "u9", "bogus"),
            eng(104, "u9", "view", age="99"),
            eng(105, "u9", "view", province="Atlantis"),
        ],
    )
    write_file(
        d,
        "engagement/2026/10/13/tips.csv",
        [
            eng(200, "u1", "tip_video_view", event_time=day, partner_id="tpo-cambodia"),
            eng(201, "u2", "tip_video_view", event_time=day, partner_id="arom-station"),
        ],
    )
    result = refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    assert result.streams["engagement"].quarantined == 6
    add_accounts(d.root)
    return d


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    return build_with_ties(tmp_path_factory.mktemp("order") / "data")


@pytest.fixture(scope="module")
def con(lake: DataDir):
    with pages.reader(lake) as c:
        yield c


def order_keys(text: str) -> list[str]:
    """The keys of the statement's last `order by`, without asc/desc."""
    text = re.sub(r"--[^\n]*", "", text)
    clause = re.split(r"\border by\b", text)[-1]
    return [re.sub(r"\s+(asc|desc)$", "", k.strip(), flags=re.I) for k in clause.split(",")]


def params(con, text: str) -> dict:
    p = {
        **PERIOD.params(Settings()),
        "dimension": "partner_id",
        "since": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "max_user_number": con.sql("select greatest(count(*), 1) from user_numbers").fetchall()[0][0],
        "event_type_codes": [],
        "action_codes": [],
    }
    return {k: v for k, v in p.items() if f"${k}" in text}


@pytest.mark.parametrize("name", ORDERED)
def test_order_keys_identify_a_row(con, name: str) -> None:
    text = sql(f"pages/{name}")
    keys = order_keys(text)
    rows, distinct = con.sql(
        f"select count(*), count(distinct row({', '.join(keys)})) from ({text}) as q", params=params(con, text)
    ).fetchall()[0]
    assert rows == distinct, f"{name}: `order by {', '.join(keys)}` leaves {rows - distinct} ties among {rows} rows"
    first = con.sql(text, params=params(con, text)).fetchall()
    assert con.sql(text, params=params(con, text)).fetchall() == first


def test_this_lake_has_the_ties_the_test_is_about(con) -> None:
    """Without ties the test above could not fail: the lake has them where the pages had them."""
    s = Settings()
    q = pages.quarantine_by_reason(con).filter(field="video_id")
    assert (
        q.select("count_rows", "stream", "reason").rows()
        == [(1, "engagement", "video_id: missing (required for view)")] * 2
    )
    assert pages.tip_videos_by_partner(con, s, PERIOD)["count_tip_video_views"].to_list() == [1, 1]
    by_policy = pages.safety_by_policy(con, s, PERIOD).filter(action="report")
    assert by_policy["count_events"].to_list() == [1, 1]


def test_the_documented_orders(con) -> None:
    """The ties come out by the keys that follow the count, as the queries' headers say."""
    s = Settings()
    assert pages.quarantine_by_reason(con).select("field", "file_path").rows() == [
        ("age_band", "engagement/2026/10/13/ties-b.csv"),
        ("event_type", "engagement/2026/10/13/ties-b.csv"),
        ("province", "engagement/2026/10/13/ties-b.csv"),
        ("surface", "engagement/2026/10/13/ties-b.csv"),
        ("video_id", "engagement/2026/10/13/ties-a.csv"),
        ("video_id", "engagement/2026/10/13/ties-b.csv"),
    ]
    assert pages.tip_videos_by_partner(con, s, PERIOD)["partner_id"].to_list() == ["arom-station", "tpo-cambodia"]
    assert pages.safety_by_policy(con, s, PERIOD).select("action", "policy", "target_type").rows() == [
        ("removal", "bullying_harassment", "video"),
        ("report", "bullying_harassment", "comment"),
        ("report", "bullying_harassment", "video"),
    ]


def data_health_table(lake: DataDir, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The Data health page's table by reason, as a fresh session of admin-test reads it."""
    monkeypatch.setenv("PULSE_DATA_DIR", str(lake.root))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    at.text_input(key="sign_in_name").input("admin-test")
    at.text_input(key="sign_in_password").input(ACCOUNTS["admin-test"][2])
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    at.switch_page("views/data_health.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(t.value for t in at.dataframe if "Reason" in t.value.columns)
    return list(table[["Rows", "Field", "Reason", "Stream"]].itertuples(index=False, name=None))


def test_data_health_lists_reasons_in_the_documented_order(lake: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """Most rows first; equal counts by stream, field and reason as shown, at every reload."""
    first = data_health_table(lake, monkeypatch)
    assert first == [
        (2, "video_id", "missing (required for view)", "Engagement"),
        (1, "age_band", "not one of 18-24, 25-34, 35-44, 45-54, 55+", "Engagement"),
        (1, "event_type", "unknown value", "Engagement"),
        (1, "province", "not a code KH-1..KH-25 or a province name", "Engagement"),
        (1, "surface", "unknown value", "Engagement"),
    ]
    assert data_health_table(lake, monkeypatch) == first
