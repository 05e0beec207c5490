"""Walking the dashboard as each role does, in a real Chromium: the pages each role sees, the
two screen sizes, signing in, moving by the sidebar, and what a page looks like once drawn.
Shared by tests/test_dashboard_ux.py (the issue-13 acceptance suite) and tests/screenshots.py."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

from playwright.sync_api import Page

from benchmarks.browser import sign_in_form
from core.datadir import DataDir
from core.settings import Settings
from pipelines.refresh import refresh
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build, eng
from tests.test_refresh import write_file
from tests.warehouse_edit import planted

WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}
ROLES = {"policy": "policy-test", "admin": "admin-test", "partner": "tpo-test"}
POLICY_PAGES = ["overview", "audience", "hub", "referrals", "safety", "alerts", "glossary"]
PAGES = {
    "policy": POLICY_PAGES,
    "admin": [*POLICY_PAGES[:-1], "data-health", "accounts", "glossary"],
    "partner": ["portal"],
}
TITLES = {
    "overview": "Overview",
    "audience": "Audience",
    "hub": "Digital Wellness Hub",
    "referrals": "Helpline referrals",
    "safety": "Safety",
    "alerts": "Alerts",
    "data-health": "Data health",
    "accounts": "Accounts",
    "glossary": "Glossary",
    "portal": "Your referrals",
}
# The pages that show the dashboard-wide filters (dates, province, age band, language).
FILTER_PAGES = {"overview", "audience", "hub", "referrals", "safety"}
# The pages with a chart over days, whose last day (today) is partial.
TIME_CHART_PAGES = {"overview", "hub", "referrals", "safety"}
# The pages with a "Reports" tile and its change against the comparison period.
REPORTS_PAGES = {"overview", "safety"}


def build_warehouse(root: Path) -> DataDir:
    """tests/dashboard_fixtures.build (every figure on 12 Oct 2026) plus one report on 11 Oct, so a
    period of 12 Oct alone has a Reports change to show (2 reports against 1 the day before),
    one view half an hour ago, so today (partial) is the data's last day, and the accounts of
    tests/dashboard_fixtures.ACCOUNTS."""
    d = build(root)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # half an hour ago, or halfway since midnight in Cambodia if that is later (between 17:00 and
    # 17:30 UTC, half an hour ago was yesterday there, and today would have no data)
    tz = Settings().tz
    midnight = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tz)
    recent = max(now - dt.timedelta(minutes=30), midnight + (now - midnight) / 2).replace(microsecond=0)
    write_file(
        d,
        f"engagement/{now:%Y/%m/%d}/engagement-today.csv",
        [eng(100, "u8", "view", event_time=recent.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"))],
    )
    write_file(
        d,
        "safety/2026-10/safety-11oct.jsonl",
        [
            {
                "event_id": "s0",
                "event_time": "2026-10-11T05:00:00Z",
                "user_id": "u3",
                "action": "report",
                "target_type": "video",
                "target_id": "v8",
                "policy": "self_harm",
                "province": "KH-12",
            }
        ],
    )
    result = refresh(Settings(), d, settle_seconds=0, now=now)
    assert result.published and sum(c.quarantined for c in result.streams.values()) == 0
    with planted(d) as con:  # one open alert incident, for the Alerts page and the markers
        con.execute(
            "insert into alert_incidents values ('reports_self_harm/-/KH-12/rise/2026-10-12', 'reports_self_harm', "
            "'', 'KH-12', 'rise', '2026-10-12', '2026-10-12', '2026-10-12', 31, 0.5, 5, 'open', now(), now(), null, "
            "'x')"
        )
    add_accounts(d.root)
    return d


def password(role: str) -> str:
    return ACCOUNTS[ROLES[role]][2]


def path_of(page_name: str) -> str:
    return "/" if page_name in ("overview", "portal") else f"/{page_name}"


def page_name_of(url: str, role: str) -> str:
    path = urlsplit(url).path.strip("/")
    if role == "partner":
        return "portal"
    return path or "overview"


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def wait_idle(page: Page) -> None:
    """The script has finished (twice, 300 ms apart: a run can start another) and every chart
    on the page has been drawn."""
    for _ in range(2):
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        page.wait_for_timeout(300)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
                 .every(c => c.querySelector('svg, canvas'))""",
        timeout=20_000,
    )
    page.wait_for_timeout(200)


def exception_text(page: Page) -> str | None:
    ex = page.locator('[data-testid="stException"]')
    return ex.first.inner_text() if ex.count() else None


def open_signed_in(page: Page, url: str, role: str) -> None:
    """Open `url` in this tab (a new Streamlit session: the sign-in form), sign in as `role`
    and wait for the page to be drawn."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    sign_in_form(page, ROLES[role], password(role))
    wait_idle(page)


def sidebar_open(page: Page) -> bool:
    sb = page.locator('[data-testid="stSidebar"]')
    return sb.count() > 0 and sb.get_attribute("data-collapsed") != "true"


def open_sidebar(page: Page) -> None:
    """On a phone the sidebar starts closed: open it the way a person does."""
    if not sidebar_open(page):
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.wait_for_timeout(500)


def close_sidebar(page: Page) -> None:
    """Close the sidebar if it covers the page (a phone), as a person would."""
    if sidebar_open(page) and page.viewport_size["width"] < 700:
        page.locator('[data-testid="stSidebarCollapseButton"] button').click()
        page.wait_for_timeout(500)


def click_sidebar_link(page: Page, page_name: str) -> None:
    """Click the sidebar's link to `page_name` (Streamlit's page list or the app's own page
    links: any link in the sidebar; opening the sidebar first if it is closed) and wait for
    the new page to be drawn."""
    open_sidebar(page)
    want = path_of(page_name)
    hrefs = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stSidebar] a[href]')].map(a => a.getAttribute('href'))"""
    )
    matching = [
        h for h in hrefs if (urlsplit(urljoin(page.url, h)).path.rstrip("/") or "/") == (want.rstrip("/") or "/")
    ]
    if matching:
        page.locator(f'[data-testid=stSidebar] a[href="{matching[0]}"]').first.click()
    else:  # a link whose href does not name its page (ux-state's Overview link is "?from=…"): by its words
        link = page.locator("[data-testid=stSidebar] a").filter(
            has_text=re.compile(rf"(^|\s){re.escape(TITLES[page_name])}\s*$")
        )
        assert link.count(), f"no sidebar link to {want} among {hrefs}"
        link.first.click()
    page.wait_for_function(
        f"() => (location.pathname.replace(/\\/$/, '') || '/') === {(want.rstrip('/') or '/')!r}", timeout=30_000
    )
    wait_idle(page)
