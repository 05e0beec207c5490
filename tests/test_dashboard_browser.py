"""The dashboard as a person sees it: `pulse dashboard` in a real Chromium (Debian's), every page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, DashboardDidNotStart, running_dashboard
from tests.conftest import REPO
from tests.dashboard_fixtures import build

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    d = build(tmp_path_factory.mktemp("browser") / "data")
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


def metric(page: Page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_figures_filters_url_and_download(server: str, page: Page) -> None:
    open_page(page, server + "/")
    assert metric(page, "Unique reach") == "4"
    assert metric(page, "Views") == "5"
    assert metric(page, "Engagement rate") == "50.0%"
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 4
    shot(page, "overview-1400")

    # a filter lands in the URL and changes the figures; the copied URL reopens the same view
    open_page(page, server + "/?province=KH-17")
    assert metric(page, "Unique reach") == "1"
    assert "province=KH-17" in page.url
    copied = page.url
    open_page(page, copied)
    assert metric(page, "Unique reach") == "1"

    with page.expect_download() as d:
        page.get_by_role("button", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text())))
    assert {"day", "views", "hub_visits", "helpline_clicks", "reports"} <= set(rows[0])
    # KH-17 had one view: like every count below min_cell in a download, it reads <10
    assert [r["views"] for r in rows if r["views"] not in ("", "0")] == ["<10"]


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
    open_page(page, f"{server}/{path}")
    assert page.get_by_role("heading", name=title).count() == 1
    if figure:
        assert metric(page, figure[0]) == figure[1]
    if path != "data-health":
        assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
    shot(page, f"{path}-1400")


def test_referral_download_hides_small_counts(server: str, page: Page) -> None:
    open_page(page, f"{server}/referrals")
    with page.expect_download() as d:
        page.get_by_role("button", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text())))
    assert rows == [
        {
            "Partner": "Transcultural Psychosocial Organization Cambodia",
            "Shown": "12",
            "Tapped": "<10",
            "Contacted": "<10",
            "Tap rate %": "",
            "Contact rate %": "",
        }
    ]


def test_phone_width(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    open_page(pg, server + "/")
    assert metric(pg, "Unique reach") == "4"
    shot(pg, "overview-phone")
    context.close()
