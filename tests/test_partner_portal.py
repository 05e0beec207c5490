"""The partner portal in AppTest, on the hand-known warehouse: Transcultural Psychosocial
Organization Cambodia (tpo-cambodia) had 12 cards shown, 3 taps and 1 contact in the week of
12 Oct 2026, all by search intervention, by phone, in Phnom Penh; Arom Station had nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import accounts
from core.datadir import DataDir
from core.settings import load_settings
from tests.conftest import REPO
from tests.dashboard_fixtures import add_accounts, build
from tests.test_dashboard_auth import everything_shown
from tests.test_dashboard_pages import APP, sign_in

N = 10
RELEASED = [dt.date(2026, 11, 16) - dt.timedelta(weeks=i) for i in range(7)]  # newest first, 5 Oct .. 16 Nov


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build(tmp_path_factory.mktemp("portal") / "data").root
    add_accounts(root)
    return root


@pytest.fixture
def portal(warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)

    def run(as_: str = "tpo-test", **query: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        at.run()
        sign_in(at, as_)
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def numbers_are_safe(at: AppTest) -> None:
    """Every count a partner sees, in a tile or a table, is min_cell or more, or reads <N,
    hidden or withheld."""
    counts = [m.value for m in at.metric]
    for df in at.dataframe:
        for column in ("Shown", "Tapped", "Contacted", "Tip video views"):
            if column in df.value.columns:
                counts += list(df.value[column])
    assert counts
    for value in counts:
        assert value in (f"<{N}", "hidden", "withheld") or int(value.replace(",", "")) >= N, value


def test_the_week_at_a_glance(portal) -> None:
    at = portal(week="2026-10-12")
    assert [t.value for t in at.title] == ["Your referrals · Transcultural Psychosocial Organization Cambodia"]
    assert metrics(at) == {"Shown": "12", "Tapped": f"<{N}", "Contacted": f"<{N}", "Tip video views": f"<{N}"}
    week = at.selectbox(key="p_week")
    assert week.options == [
        f"{w.day} {w:%b} – {(w + dt.timedelta(days=6)).day} {w + dt.timedelta(days=6):%b %Y}" for w in RELEASED
    ]
    assert week.value == dt.date(2026, 10, 12)
    assert at.query_params["week"] == "2026-10-12" and at.query_params["by"] == "entry_point"


def test_newest_week_by_default_and_a_foreign_week_in_the_url_falls_back(portal) -> None:
    assert portal().selectbox(key="p_week").value == RELEASED[0]
    for bogus in ("2026-10-14", "2027-01-04", "not-a-date"):
        at = portal(week=bogus, by="partner_id")
        assert at.selectbox(key="p_week").value == RELEASED[0]
        assert at.query_params["by"] == "entry_point"


def test_filter_lists_hold_only_the_partners_own_values(portal) -> None:
    at = portal(week="2026-10-12", by="province")
    assert at.multiselect(key="p_only").options == ["Phnom Penh"]
    at = portal(week="2026-10-12", by="channel")
    assert at.multiselect(key="p_only").options == ["Phone"]
    at = portal(as_="arom-test", by="province")  # Arom Station had no referral at all
    assert at.multiselect(key="p_only").options == []


def test_the_breakdown_table_shows_only_protected_figures(portal) -> None:
    at = portal(week="2026-10-12", by="entry_point")
    # 12 shown, all by search intervention: showing it would reveal every other entry point
    # as 0 by subtraction, and hiding it alone would leave the small ones at most 2: withheld
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Shown: not broken down by entry point this week") for c in captions)
    # taps and contacts are <10 for every entry point, so no row is listed
    assert not at.dataframe
    assert "6 entry point values with fewer than 10 in every column are not listed." in captions
    numbers_are_safe(at)


def test_switching_breakdown_and_show_only_stick_in_the_url(portal) -> None:
    at = portal(week="2026-10-12", by="province")
    at.multiselect(key="p_only").set_value(["KH-12"]).run()
    assert at.query_params["only"] == "KH-12"
    assert list(at.dataframe[0].value["Province"]) == ["Phnom Penh"]
    again = portal(week="2026-10-12", by="province", only="KH-12,KH-17")  # KH-17 is not in its data
    assert again.multiselect(key="p_only").value == ["KH-12"]


def test_another_partner_sees_nothing_of_the_first(portal) -> None:
    at = portal(as_="arom-test", week="2026-10-12")
    assert metrics(at) == {"Shown": f"<{N}", "Tapped": f"<{N}", "Contacted": f"<{N}", "Tip video views": f"<{N}"}
    text = everything_shown(at)
    assert "Arom Station" in text
    for leak in ("Transcultural", "tpo-cambodia", "TPO"):
        assert leak not in text
    numbers_are_safe(at)


def test_a_partner_with_nothing_released_gets_an_explanation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = build(tmp_path / "data").root
    config = tmp_path / "campaign.toml"
    config.write_text(
        (REPO / "campaign.toml").read_text(encoding="utf-8")
        + '\n[[partners]]\nid = "new-partner"\nname = "A New Partner"\nchannels = ["phone"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    accounts.add(DataDir(root), load_settings(config), "newbie", "partner", "new-partner", "newbie password")
    monkeypatch.setenv("PULSE_DATA_DIR", str(root))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    sign_in(at, "newbie", "newbie password")
    assert not at.exception
    assert "No week has been published for your organisation yet" in at.info[0].value


def test_the_day_list_offers_only_the_chosen_weeks_days(portal) -> None:
    at = portal(week="2026-10-19", by="day")  # the referrals were all on 12 Oct, the week before
    assert at.multiselect(key="p_only").options == []
    at = portal(week="2026-10-12", by="day")
    assert at.multiselect(key="p_only").options == ["Mon 12 Oct"]
