"""One view state for the whole app, comparisons that mean something, and privacy on every
table, through Streamlit's AppTest on the hand-known warehouse (tests/dashboard_fixtures.py:
every event on 12 Oct 2026, two days after the launch)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import accounts
from core.datadir import DataDir
from core.settings import Settings
from tests.dashboard_fixtures import ACCOUNTS
from tests.test_dashboard_pages import APP, sign_in
from tests.test_dashboard_pages import app as app  # noqa: F401
from tests.test_dashboard_pages import warehouse as warehouse  # noqa: F401  (the module's fixture)


def query(at: AppTest) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def page_links(at: AppTest) -> dict[str, dict[str, str]]:
    """Sidebar page links: label -> the query parameters the link carries."""
    links = {}
    for el in at.sidebar.get("page_link"):
        links[el.proto.label] = dict(urllib.parse.parse_qsl(el.proto.query_string))
    return links


def test_filters_survive_every_page_change(app) -> None:
    at = app(province="KH-17", age="25-34")
    for page in ("views/audience.py", "views/glossary.py", "views/hub.py", "views/overview.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        q = query(at)
        assert (q.get("province"), q.get("age")) == ("KH-17", "25-34"), page
    assert at.multiselect(key="f_province").value == ["KH-17"]
    assert at.metric[0].label == "Unique reach" and at.metric[0].value == "1"


def test_sidebar_links_carry_the_filters(app) -> None:
    at = app(province="KH-17")
    at.multiselect(key="f_language").set_value(["en"]).run()
    links = page_links(at)
    assert set(links) >= {"Overview", "Audience", "Digital Wellness Hub", "Helpline referrals", "Safety", "Glossary"}
    for label, params in links.items():
        assert (params.get("province"), params.get("language"), params.get("compare")) == ("KH-17", "en", "previous"), (
            label,
            params,
        )


def test_date_pickers_are_bounded_by_the_data(app) -> None:
    at = app()
    start = at.date_input(key="f_start")
    assert (start.proto.min, start.proto.max) == ("2026-10-12", "2026-10-12")
    assert start.value == dt.date(2026, 10, 12)


def test_a_period_outside_the_data_says_so(app) -> None:
    at = app(**{"from": "2027-01-01", "to": "2027-01-05"})
    assert [w.value for w in at.warning] == [
        "There is no data for 01 Jan – 05 Jan 2027: the data runs from 12 Oct 2026. Showing 12 Oct 2026 instead."
    ]
    assert at.metric[0].value == "4"


def test_a_period_partly_outside_the_data_is_cut_and_says_so(app) -> None:
    at = app(**{"from": "2026-09-01", "to": "2026-10-20"})
    assert [w.value for w in at.warning] == [
        "The data runs from 12 Oct 2026, so the period asked for, 01 Sep – 20 Oct 2026, is shown as 12 Oct 2026."
    ]
    assert query(at)["from"] == "2026-10-12" and query(at)["to"] == "2026-10-12"


def test_compare_with_is_a_control_in_the_url(app) -> None:
    at = app(compare="last_week")
    assert at.selectbox(key="f_compare").value == "last_week"
    at.selectbox(key="f_compare").set_value("none").run()
    assert query(at)["compare"] == "none"
    assert all(not m.proto.delta for m in at.metric)


def test_a_comparison_that_cannot_be_made_says_why(app) -> None:
    at = app()  # 12 Oct alone: the day before has no data (the data starts on 12 Oct)
    assert "Changes are not shown: the data starts on 12 Oct 2026, inside the day before this period." in [
        c.value for c in at.caption
    ]
    assert all(not m.proto.delta for m in at.metric)
    assert not any("+" in m.proto.delta for m in at.metric)


def _kpis() -> None:
    from dashboard.widgets import kpi

    kpi("Helpline taps", 12, "+20.0%", "taps")
    kpi("Reports", 12, "+20.0%", "reports", good=False)


def test_more_reports_is_not_styled_as_good_news() -> None:
    at = AppTest.from_function(_kpis).run()
    taps, reports = at.metric
    assert (taps.proto.delta, taps.proto.color) == ("+20.0%", taps.proto.MetricColor.Value("GREEN"))
    assert (reports.proto.delta, reports.proto.color) == ("+20.0%", reports.proto.MetricColor.Value("GRAY"))


def test_no_table_sends_a_small_count_to_the_browser(app) -> None:
    at = app("views/audience.py")
    for df in at.dataframe:
        table = df.value
        for column in table.columns:
            # text only: no raw number the browser could export
            assert not pd.api.types.is_numeric_dtype(table[column]), column
    by_province = at.dataframe[0].value
    siem_reap = by_province[by_province["Province"] == "Siem Reap"].iloc[0]
    assert siem_reap["Unique reach"] == "<10"
    assert siem_reap["Share of reach %"] == "–"  # 25.0% of 4 would give the count back
    assert siem_reap["Engagement rate %"] == "–"

    at = app("views/safety.py")
    table = at.dataframe[0].value
    assert list(table["Count"]) == ["<10", "<10", "<10"]


def test_data_health_download_is_suppressed_and_audited(app) -> None:
    at = app("views/data_health.py")
    buttons = at.get("download_button")
    assert all(b.proto.help.startswith("Counts from 1 to 9 read <10") for b in buttons), [b.proto.help for b in buttons]


def test_a_locked_account_reads_locked(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = DataDir(warehouse)
    s = Settings()
    if accounts.get(d, "locked-test") is None:
        accounts.add(d, s, "locked-test", "policy", None, "locked test password")
    for _ in range(s.auth.max_failed_sign_ins):
        accounts.sign_in(d, s, "locked-test", "wrong", dt.datetime.now(dt.UTC))
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    at = AppTest.from_file(APP, default_timeout=60).run()
    sign_in(at, "admin-test", ACCOUNTS["admin-test"][2])
    at.switch_page("views/accounts.py").run()
    table = at.dataframe[0].value
    row = table[table["Account"] == "locked-test"].iloc[0]
    assert row["Failed sign-ins"] == f"{s.auth.max_failed_sign_ins} (locked)"
    unlock = at.selectbox[0]
    assert unlock.label == "Unlock an account" and unlock.options == ["locked-test"]
    assert unlock.proto.placeholder == "Choose a locked account"
    remove = next(b for b in at.button if b.label == "Remove")
    assert remove.proto.type != "primary"
    accounts.unlock(d, "locked-test")
