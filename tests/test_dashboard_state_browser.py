"""The view state, comparisons, table privacy, phone layout, copy link and print, as a person
meets them: `pulse dashboard` in Debian's Chromium on the hand-known warehouse."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page

from benchmarks.browser import DashboardDidNotStart, running_dashboard
from core import audit
from core.datadir import DataDir
from core.settings import Settings
from pipelines.refresh import refresh
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build, eng
from tests.test_dashboard_browser import ARTIFACTS, open_page, shot, sign_in, wait_idle
from tests.test_dashboard_browser import browser as browser  # noqa: F401  (the module's fixtures)
from tests.test_dashboard_browser import data_root as data_root  # noqa: F401
from tests.test_dashboard_browser import server as server  # noqa: F401
from tests.test_refresh import write_file

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, accept_downloads=True, is_mobile=True, has_touch=True)
    pg = context.new_page()
    yield pg
    context.close()


def nav(page: Page, label: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]').filter(has_text=label).click()
    wait_idle(page)


def test_filters_survive_sidebar_navigation_and_reload(server: str, page: Page) -> None:  # noqa: F811
    sign_in(page, server + "/?province=KH-17&age=25-34", "policy-test")
    for label, heading in [
        ("Audience", "Who does the campaign reach?"),
        ("Safety", "Is it safe?"),
        ("Glossary", None),
        ("Digital Wellness Hub", "Digital Wellness Hub"),
    ]:
        nav(page, label)
        if heading:
            assert page.get_by_role("heading", name=heading).count() == 1
        assert "province=KH-17" in page.url and "age=25-34" in page.url, (label, page.url)
        assert "from=2026-10-12" in page.url and "to=2026-10-12" in page.url, (label, page.url)
    assert page.locator('[data-testid="stMetric"]').filter(has_text="Hub visitors").count() == 1
    page.reload()
    wait_idle(page)
    sign_in(page, page.url, "policy-test")  # a reload is a new session: sign in, same view
    assert "province=KH-17" in page.url
    nav(page, "Overview")
    assert (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text="Unique reach")
        .locator('[data-testid="stMetricValue"]')
        .inner_text()
        == "1"
    )


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory):
    """The hand-known warehouse plus one view on 13 Oct, on a server of its own."""
    d = build(tmp_path_factory.mktemp("two-days") / "data")
    write_file(
        d, "engagement/2026/10/13/engagement.csv", [{**eng(99, "u9", "view"), "event_time": "2026-10-13T05:00:00Z"}]
    )
    assert refresh(Settings(), d, settle_seconds=0, now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC)).published
    add_accounts(d.root, {"policy-test": ACCOUNTS["policy-test"]})
    try:
        with running_dashboard(d.root, tmp_path_factory.mktemp("log") / "dashboard.log") as base:
            yield base
    except DashboardDidNotStart as e:
        pytest.fail(str(e))


def test_enter_applies_a_typed_date(two_days: str, page: Page) -> None:
    sign_in(page, two_days + "/?compare=none", "policy-test")
    assert "from=2026-10-12" in page.url and "to=2026-10-13" in page.url
    day = page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"]').first.locator('[data-type="day"]')
    day.click()
    page.keyboard.type("13")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    wait_idle(page)
    assert "from=2026-10-13" in page.url and "compare=none" in page.url


def test_a_refused_page_says_so(server: str, page: Page) -> None:  # noqa: F811
    sign_in(page, server + "/audience", "tpo-test")
    assert page.get_by_role("heading", name="Your referrals · Transcultural Psychosocial Organization Cambodia").count()
    assert "That page is for policy staff; here is your portal." in page.locator('[data-testid="stAlert"]').inner_text()
    sign_in(page, server + "/accounts", "policy-test")
    assert page.get_by_role("heading", name="Is the campaign landing?").count() == 1
    assert (
        "That page is for administrators; here is the Overview."
        in page.locator('[data-testid="stAlert"]').first.inner_text()
    )


def test_no_table_offers_streamlits_own_download(server: str, page: Page) -> None:  # noqa: F811
    for path in ("audience", "referrals", "safety", "accounts"):  # (no row was rejected: no Data health table)
        sign_in(page, f"{server}/{path}", "admin-test")
        page.mouse.move(900, 500)
        for _ in range(12):  # tables are drawn once scrolled into view
            page.mouse.wheel(0, 500)
            page.wait_for_timeout(150)
        tables = page.locator('[data-testid="stElementContainer"]', has=page.locator('[data-testid="stDataFrame"]'))
        assert tables.count() >= 1, path
        for i in range(tables.count()):
            tables.nth(i).hover()
            page.wait_for_timeout(200)
            labels = [b.get_attribute("aria-label") or "" for b in tables.nth(i).locator("button").all()]
            assert "Search" in labels or not labels, (path, labels)  # the toolbar was found
            assert not [label for label in labels if "Download" in label or "Copy" in label], (path, labels)


def test_csv_names_say_which_filters_and_period_made_them(server: str, data_root: Path, page: Page) -> None:  # noqa: F811
    sign_in(page, server + "/referrals?province=KH-12", "policy-test")
    button = page.get_by_role("button", name="Download CSV").first
    button.scroll_into_view_if_needed()
    with page.expect_download() as d:
        button.click()
    assert d.value.suggested_filename == "pulse-referral-funnel-by-partner-id-2026-10-12_2026-10-12-KH-12.csv"
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text())))
    assert rows[0]["Shown"] == "12"
    wait_idle(page)
    for _ in range(50):
        last = audit.entries(DataDir(data_root), limit=1)[0]
        if last.action == audit.EXPORT:
            break
        page.wait_for_timeout(200)
    assert last.detail == (
        "page Helpline referrals: pulse-referral-funnel-by-partner-id-2026-10-12_2026-10-12-KH-12.csv"
    )


def test_copy_link_copies_the_view(server: str, page: Page) -> None:  # noqa: F811
    sign_in(page, server + "/audience?province=KH-17", "policy-test")
    page.get_by_role("button", name="Copy link to this view").click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url and "/audience?" in copied and "province=KH-17" in copied


def test_print_hides_the_sidebar_and_prints_the_filters(server: str, page: Page) -> None:  # noqa: F811
    sign_in(page, server + "/?province=KH-17", "policy-test")
    page.emulate_media(media="print")
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    header = page.locator(".pulse-print-only").first
    assert header.is_visible()
    assert "Mental Well-Being Comes First · Overview · printed" in header.inner_text()
    filters = page.locator(".pulse-print-only").filter(has_text="Filters:")
    assert "Filters: 12 Oct 2026 – 12 Oct 2026 · Siem Reap" in filters.inner_text()
    # charts one per row: two charts of the daily trend sit one above the other
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    a, b = charts.nth(0).bounding_box(), charts.nth(1).bounding_box()
    assert b["y"] >= a["y"] + a["height"] - 1
    page.pdf(path=str(ARTIFACTS / "overview-print.pdf"))


def test_phone_tiles_two_per_row_and_the_sidebar_closes(server: str, phone: Page) -> None:  # noqa: F811
    sign_in(phone, server + "/", "policy-test")
    tiles = phone.locator('[data-testid="stMetric"]')
    boxes = [tiles.nth(i).bounding_box() for i in range(4)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and boxes[2]["y"] > boxes[0]["y"] + 10
    assert boxes[1]["x"] + boxes[1]["width"] <= PHONE["width"]
    shot(phone, "state-overview-phone")
    phone.locator(
        '[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button'
    ).first.click()
    phone.wait_for_timeout(500)
    assert phone.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "false"
    nav(phone, "Audience")
    phone.wait_for_timeout(600)
    assert phone.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    assert phone.get_by_role("heading", name="Who does the campaign reach?").count() == 1


def test_phone_portal_title_and_controls_fit(server: str, phone: Page) -> None:  # noqa: F811
    sign_in(phone, server + "/", "tpo-test")
    title = phone.locator("h1").first
    box = title.bounding_box()
    line = float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert box["height"] < 4 * line, (box, line)  # three lines at most (five before)
    group = phone.locator(
        '[data-testid="stMain"] [data-testid="stButtonGroup"]'
    ).first  # not the sidebar's language switch
    g = group.bounding_box()
    assert g["x"] >= 0 and g["x"] + g["width"] <= PHONE["width"]
    for button in group.locator("button").all():
        b = button.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], button.inner_text()
    shot(phone, "state-portal-phone")
    open_page(phone, server + "/")


def test_portal_csv_names_say_the_week_and_the_selection(server: str, page: Page) -> None:  # noqa: F811
    sign_in(page, server + "/?week=2026-10-12&by=province&only=KH-12", "tpo-test")
    with page.expect_download() as d:
        page.get_by_role("button", name="Download this table (CSV)").click()
    assert d.value.suggested_filename == "pulse-tpo-cambodia-province-2026-10-12_2026-10-18-KH-12.csv"
    with page.expect_download() as d:
        page.get_by_role("button", name="Every figure of this week (CSV)").click()
    assert d.value.suggested_filename == "pulse-tpo-cambodia-week-2026-10-12_2026-10-18.csv"
