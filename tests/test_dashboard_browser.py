"""The dashboard as a person sees it: `pulse dashboard` in a real Chromium (Debian's), every page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, DashboardDidNotStart, running_dashboard, sign_in_form
from core import audit
from core.datadir import DataDir
from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = build(tmp_path_factory.mktemp("browser") / "data")
    add_accounts(d.root)
    return d.root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_root: Path):
    d = DataDir(data_root)
    log = tmp_path_factory.mktemp("log") / "dashboard.log"
    try:
        with running_dashboard(d.root, log) as base:
            yield base
    except DashboardDidNotStart as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run .ci/setup --browser"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def wait_idle(page: Page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)


def sign_in(page: Page, url: str, name: str = "admin-test", password: str | None = None) -> None:
    """Open `url` (a new session: the sign-in form), sign in, wait for the page to finish."""
    open_page(page, url)
    sign_in_form(page, name, password if password is not None else ACCOUNTS[name][2])
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def metric(page: Page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_figures_filters_url_and_download(server: str, page: Page) -> None:
    sign_in(page, server + "/", "policy-test")
    assert metric(page, "Unique reach") == "4"
    assert metric(page, "Views") == "5"
    assert metric(page, "Engagement rate") == "50.0%"
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 4
    shot(page, "overview-1400")

    # a filter lands in the URL and changes the figures; the copied URL reopens the same view
    sign_in(page, server + "/?province=KH-17", "policy-test")
    assert metric(page, "Unique reach") == "1"
    assert "province=KH-17" in page.url
    copied = page.url
    sign_in(page, copied, "policy-test")  # a new tab is a new session: sign in, same view
    assert metric(page, "Unique reach") == "1"

    with page.expect_download() as d:
        page.get_by_role("button", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text())))
    assert list(rows[0]) == ["Day", "Views of campaign videos", "Wellness Hub visits", "Helpline card taps", "Reports"]
    # KH-17 had one view: like every count below min_cell in a download, it reads <10
    views = [r["Views of campaign videos"] for r in rows]
    assert [v for v in views if v not in ("", "0")] == ["<10"]


@pytest.mark.parametrize(
    ("path", "title", "figure"),
    [
        ("audience", "Who does the campaign reach?", None),
        ("hub", "Digital Wellness Hub", ("Hub visitors", "2")),
        ("referrals", "Helpline referrals", None),
        ("safety", "Is it safe?", ("Reports", "2")),
        ("data-health", "Data health", ("Engagement rows", "13")),
    ],
)
def test_every_page_renders(server: str, page: Page, path: str, title: str, figure) -> None:
    sign_in(page, f"{server}/{path}")
    assert page.get_by_role("heading", name=title).count() == 1
    if figure:
        assert metric(page, figure[0]) == figure[1]
    if path != "data-health":  # a chart renders after the figures: wait for it (a bare count raced it once in CI)
        expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible(timeout=30_000)
    shot(page, f"{path}-1400")


def test_referral_download_hides_small_counts_and_is_audited(server: str, data_root: Path, page: Page) -> None:
    sign_in(page, f"{server}/referrals", "policy-test")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg').length >= 3"
    )
    wait_idle(page)
    button = page.get_by_role("button", name="Download CSV").first
    button.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    with page.expect_download() as d:
        button.click()
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text())))
    assert rows == [
        {
            "Partner": "Transcultural Psychosocial Organization Cambodia",
            "Shown": "12",
            "Tapped": "<10",
            "Contacted": "<10",
            "Tap rate %": "withheld",
            "Contact rate %": "withheld",
        }
    ]
    wait_idle(page)
    last = audit.entries(DataDir(data_root), limit=1)[0]
    assert (last.account, last.action) == ("policy-test", "export")
    assert last.detail.startswith("page Helpline referrals: pulse-referral-funnel-by-partner-id-")


def test_phone_width(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    open_page(pg, server + "/")
    shot(pg, "sign-in-phone")
    sign_in(pg, server + "/", "policy-test")
    assert metric(pg, "Unique reach") == "4"
    shot(pg, "overview-phone")
    context.close()


def test_sign_in_form_first_then_overview_then_sign_out(server: str, page: Page) -> None:
    open_page(page, server + "/audience")
    assert page.get_by_role("heading", name="Wellbeing Pulse").count() == 1
    body = page.locator("body").inner_text()
    assert "Tapped" not in body and "snapshot" not in body
    for p in ("Arom Station", "Transcultural", "tpo-cambodia"):
        assert p not in body
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    shot(page, "sign-in-1400")

    page.get_by_label("Account name").fill("policy-test")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    wait_idle(page)
    assert "Wrong account name or password." in page.locator('[data-testid="stAlert"]').inner_text()
    assert page.get_by_label("Password", exact=True).input_value() == ""
    shot(page, "sign-in-wrong-password-1400")

    sign_in(page, server + "/", "policy-test")
    assert page.get_by_role("heading", name="Is the campaign landing?").count() == 1
    nav = " ".join(page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').all_inner_texts())
    assert "Audience" in nav and "Data health" not in nav and "Accounts" not in nav
    page.get_by_role("button", name="Sign out").click()
    # the rerun may start later than wait_idle's first look on a busy machine: wait for the form
    page.get_by_label("Account name").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.get_by_label("Account name").count() == 1
    assert "You are signed out." in page.locator('[data-testid="stAlert"]').inner_text()
    assert page.locator('[data-testid="stMetric"]').count() == 0


@pytest.mark.parametrize(
    ("name", "own", "other"),
    [("tpo-test", "Transcultural", "Arom Station"), ("arom-test", "Arom Station", "Transcultural")],
)
def test_partner_gets_only_its_portal_whatever_the_url(
    server: str, page: Page, name: str, own: str, other: str
) -> None:
    for path in ["", "audience", "referrals", "data-health", "accounts", "portal", "referrals?partner=arom-station"]:
        sign_in(page, f"{server}/{path}", name)
        # a page the role may not open says so and switches to the portal: one more run to wait for
        page.wait_for_function("document.querySelectorAll('[data-testid=stMetric]').length >= 4", timeout=60_000)
        wait_idle(page)
        heading = page.locator("h1").first.inner_text()
        assert heading.startswith("Your referrals") and own in heading, (path, heading)
        body = page.locator("body").inner_text()
        assert other not in body, path
        for policy_title in (
            "Is the campaign landing?",
            "Who does the campaign reach?",
            "Helpline referrals",
            "Data health",
        ):
            assert page.get_by_role("heading", name=policy_title).count() == 0, (path, policy_title)
        labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
        assert [label.strip() for label in labels] == ["Shown", "Tapped", "Contacted", "Tip video views"], path
        nav = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]')
        assert [t.split()[-2:] for t in nav.all_inner_texts()] == [["Your", "referrals"]]  # (after its icon)
    shot(page, f"portal-{name}-1400")


def test_partner_portal_figures_url_and_downloads(server: str, data_root: Path, page: Page) -> None:
    """The week of 12 Oct: 12 cards shown, 3 taps, 1 contact (tests/dashboard_fixtures.py)."""
    sign_in(page, f"{server}/portal?week=2026-10-12&by=channel", "tpo-test")
    assert metric(page, "Shown") == "12"
    assert metric(page, "Tapped") == "<10" and metric(page, "Contacted") == "<10"
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 1
    assert "week=2026-10-12" in page.url and "by=channel" in page.url
    shot(page, "portal-week-1400")

    # another breakdown lands in the URL; the copied URL reopens the same view after sign-in
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Province", exact=True).click()
    wait_idle(page)
    assert "by=province" in page.url
    copied = page.url
    sign_in(page, copied, "tpo-test")
    assert "by=province" in page.url and "week=2026-10-12" in page.url
    assert metric(page, "Shown") == "12"

    with page.expect_download() as d:
        page.get_by_role("button", name="Every figure of this week (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text())))
    assert list(rows[0]) == ["Partner", "Week start", "Week end", "Measure", "Breakdown", "Category", "Value"]
    assert {r["Partner"] for r in rows} == {"Transcultural Psychosocial Organization Cambodia"}
    assert {r["Week start"] for r in rows} == {"2026-10-12"}
    total = {(r["Measure"], r["Breakdown"]): r["Value"] for r in rows if r["Breakdown"] == "Whole week"}
    assert total == {
        ("Shown", "Whole week"): "12",
        ("Tapped", "Whole week"): "<10",
        ("Contacted", "Whole week"): "<10",
        ("Tip video views", "Whole week"): "<10",
    }
    assert all(r["Value"] in ("<10", "hidden", "withheld") or int(r["Value"]) >= 10 for r in rows)

    page.get_by_label("Month report").click()
    page.get_by_role("option", name="October 2026").click()
    wait_idle(page)
    with page.expect_download() as d:
        page.get_by_role("button", name="Month report, October 2026 (PNG)").click()
    png = Path(d.value.path()).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    (ARTIFACTS / "portal-month-report.png").write_bytes(png)
    wanted = ("tpo-test", "page Your referrals: tpo-cambodia_2026-10.png")
    for _ in range(50):  # the click's audit record is written by the rerun it starts
        exports = [(e.account, e.detail) for e in audit.entries(DataDir(data_root)) if e.action == audit.EXPORT]
        if wanted in exports:
            break
        page.wait_for_timeout(200)
    assert wanted in exports
