"""Every page through Streamlit's AppTest, on a warehouse with hand-known figures."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build

APP = str(REPO / "dashboard" / "app.py")
PAGES = [
    "views/overview.py",
    "views/audience.py",
    "views/hub.py",
    "views/referrals.py",
    "views/safety.py",
    "views/alerts.py",
    "views/data_health.py",
    "views/accounts.py",
    "views/glossary.py",
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build(tmp_path_factory.mktemp("dash") / "data").root
    add_accounts(root)
    return root


def sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    """Fill in and submit the sign-in form, as a person would."""
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password if password is not None else ACCOUNTS[name][2])
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


@pytest.fixture
def app(warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)

    def run(page: str | None = None, as_: str = "admin-test", **query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        at.run()
        sign_in(at, as_)
        if page:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_headline_figures(app) -> None:
    m = metrics(app())
    assert m == {
        "Unique reach": "4",
        "Views": "5",
        "Engagement rate": "50.0%",
        "Campaign posts": "2",
        "Distinct creators": "2",
        "Hub visitors": "2",
        "Helpline taps": "3",
        "Reports": "2",
    }


def test_filters_from_the_url_change_the_figures(app) -> None:
    at = app(province="KH-17")
    m = metrics(at)
    assert (m["Unique reach"], m["Views"], m["Engagement rate"], m["Campaign posts"]) == ("1", "1", "100.0%", "0")
    assert at.query_params["province"] in ("KH-17", ["KH-17"])
    assert at.multiselect(key="f_province").value == ["KH-17"]


def test_changing_a_filter_widget_writes_the_url(app) -> None:
    at = app()
    at.multiselect(key="f_language").set_value(["en"]).run()
    assert metrics(at)["Unique reach"] == "1"
    assert at.query_params["language"] in ("en", ["en"])


def test_empty_period_explains_itself(app) -> None:
    # (a period outside the data's days is moved inside them: tests/test_dashboard_state.py)
    at = app(province="KH-1")
    assert metrics(at)["Unique reach"] == "0"
    assert any("No events in this period for these filters" in i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(app, page: str) -> None:
    at = app(page)
    assert at.title[0].value


def test_referrals_hide_small_counts(app) -> None:
    at = app("views/referrals.py")
    table = at.dataframe[0].value
    row = table[table["Partner"] == "Transcultural Psychosocial Organization Cambodia"].iloc[0]
    assert (row["Shown"], row["Tapped"], row["Contacted"]) == ("12", "<10", "<10")
    assert row["Tap rate %"] == "withheld"  # a rate from a hidden count is withheld too


def test_safety_rates(app) -> None:
    m = metrics(app("views/safety.py"))
    assert (m["Reports"], m["Removals"], m["Proactive rate"], m["Zero-view removal rate"], m["Restore rate"]) == (
        "2",
        "1",
        "100.0%",
        "100.0%",
        "0.0%",
    )


def test_every_page_says_how_fresh_the_data_is(app) -> None:
    at = app()
    assert any(c.value == "Data refreshed 0 min ago" for c in at.caption)
    assert not at.warning


def test_the_hub_counts_tip_video_watch_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CONTRACT §2: a tip video is watched too; the Hub says for how long in all (1.5 h + 0.5 h)."""
    import datetime as dt

    from core.settings import Settings
    from pipelines.refresh import refresh
    from tests.dashboard_fixtures import eng
    from tests.test_refresh import write_file

    d = build(tmp_path / "data")
    tips = [
        eng(90, "u1", "tip_video_view", partner_id="tpo-cambodia", watch_time_ms=5_400_000),
        eng(91, "u2", "tip_video_view", partner_id="tpo-cambodia", watch_time_ms=1_800_000),
    ]
    write_file(d, "engagement/2026/10/12/tips.csv", tips)
    result = refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    assert result.streams["engagement"].loaded == 2
    add_accounts(d.root)
    monkeypatch.setenv("PULSE_DATA_DIR", str(d.root))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "admin-test")
    at.switch_page("views/hub.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Tip videos were watched for 2.0 hours in all in this period" in " ".join(c.value for c in at.caption)


def test_a_new_snapshot_shows_on_the_next_run_and_the_old_one_is_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages keep their connections to a snapshot between runs (queries.pages.Readers):
    a refresh that publishes a new snapshot still shows on the session's next interaction,
    and the connections to a snapshot two refreshes old are closed."""
    import datetime as dt

    from core.settings import Settings
    from dashboard import state
    from pipelines.refresh import refresh
    from tests.dashboard_fixtures import eng
    from tests.test_refresh import write_file

    d = build(tmp_path / "data")
    add_accounts(d.root)
    monkeypatch.setenv("PULSE_DATA_DIR", str(d.root))
    monkeypatch.chdir(REPO)
    state._readers.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "admin-test")
    assert metrics(at)["Hub visitors"] == "2"
    first = state._readers(str(d.root), state.snapshot_id())

    visits = [eng(100 + i, f"late{i}", "hub_visit", video_id=None, tags=None) for i in range(2)]
    write_file(d, "engagement/2026/10/13/late.csv", visits)
    refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["Hub visitors"] == "4"
    assert not first._closed  # one snapshot back: a run still drawing on it may use it

    write_file(d, "engagement/2026/10/14/later.csv", [eng(120, "later", "hub_visit", video_id=None, tags=None)])
    refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    at.run()
    assert metrics(at)["Hub visitors"] == "5"
    assert first._closed and not first._idle


def test_alerts_page_lists_open_incidents_with_links_and_marks_them_on_the_time_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: an open incident (self-harm reports in Phnom Penh on 12 Oct) is on the Alerts page
    with its link, its counts as text (`<10` below privacy.min_cell), and on the Safety chart."""
    from tests.warehouse_edit import planted

    d = build(tmp_path / "data")
    add_accounts(d.root)
    with planted(d) as con:
        con.execute(
            "insert into alert_incidents values ('reports_self_harm/-/KH-12/rise/2026-10-12', 'reports_self_harm', "
            "'', 'KH-12', 'rise', '2026-10-12', '2026-10-12', '2026-10-12', 31, 0.5, 5, 'open', now(), now(), null, "
            "'x')"
        )
        con.execute(  # a national one, resolved: listed as such, and not marked on the charts
            "insert into alert_incidents values ('reports/-/all/rise/2026-10-12', 'reports', '', "
            "'all', 'rise', '2026-10-12', '2026-10-12', '2026-10-12', 12, 3, 2, 'resolved', now(), now(), now(), 'x')"
        )
    monkeypatch.setenv("PULSE_DATA_DIR", str(d.root))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "policy-test")
    at.switch_page("views/alerts.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Alerts"
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert (row["Metric"], row["Place"], row["Direction"], row["Observed"], row["Expected"]) == (
        "Reports of self-harm content",
        "Phnom Penh",
        "Rise",
        "31",
        "<10",
    )
    assert row["View"] == "/safety?from=2026-09-15&to=2026-10-12&province=KH-12"
    resolved = at.dataframe[1].value.iloc[0]
    assert (resolved["Metric"], resolved["Place"], resolved["Observed"]) == ("Reports", "Cambodia", "12")
    # the Safety page's daily chart marks the open one when its province is chosen, not the resolved one
    at.switch_page("views/safety.py").run()
    at.multiselect(key="f_province").set_value(["KH-12"]).run()
    marks = [
        label
        for c in at.get("vega_lite_chart")
        for layer in json.loads(c.proto.spec).get("layer", [])
        for label in [v.get("label") for v in layer.get("data", {}).get("values", [])]
        if label
    ] + [
        label
        for c in at.get("vega_lite_chart")
        for ds in c.proto.datasets
        for label in pa.ipc.open_stream(ds.data.data).read_all().to_pydict().get("label", [])
    ]
    assert "Alert: Reports of self-harm content" in marks and "Alert: Reports" not in marks
