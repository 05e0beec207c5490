"""The Data health page's table of rejected rows in a real Chromium: on a phone (390×844) every
reason reads in full without sideways scrolling; on a desktop it stays the sortable table.
On the lake of tests/test_page_order.py (six rejected rows, five reasons)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, DashboardDidNotStart, running_dashboard
from tests.dashboard_walk import WIDTHS, open_signed_in
from tests.test_page_order import build_with_ties

REASONS = [
    "missing (required for view)",
    "not one of 18-24, 25-34, 35-44, 45-54, 55+",
    "unknown value",  # event_type
    "not a code KH-1..KH-25 or a province name",
    "unknown value",  # surface
]

# The table whose header names a "Reason" column (st.dataframe draws on a canvas; its accessible
# grid holds the headers): shown or not, and how far its grid scrolls sideways.
REASON_GRID_JS = """() => [...document.querySelectorAll('[data-testid=stDataFrame]')]
  .filter(t => [...t.querySelectorAll('[role=columnheader]')].some(h => h.textContent.trim() === 'Reason'))
  .map(t => {
    const r = t.getBoundingClientRect();
    const s = t.querySelector('.dvn-scroller');
    return {shown: r.width > 0 && r.height > 0 && t.offsetParent !== null,
            scrollWidth: s ? s.scrollWidth : 0, clientWidth: s ? s.clientWidth : 0};
  })"""

# Every element whose own text is one of the reasons, as drawn: its box, and whether its text is
# cut (wider than its box, e.g. an ellipsis).
REASON_TEXT_JS = """(reasons) => [...document.querySelectorAll('[data-testid=stMain] *')]
  .filter(e => reasons.includes([...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim()))
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && e.offsetParent !== null; })
  .map(e => { const r = e.getBoundingClientRect();
              return {text: e.textContent.trim(), left: r.left, right: r.right, cut: e.scrollWidth > e.clientWidth + 1}; })"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    d = build_with_ties(tmp_path_factory.mktemp("health") / "data")
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


def data_health(browser, server: str, width: str) -> Page:
    w, h = WIDTHS[width]
    page = browser.new_context(viewport={"width": w, "height": h}).new_page()
    open_signed_in(page, server + "/data-health", "admin")
    assert page.locator('[data-testid="stException"]').count() == 0
    return page


def test_phone_reads_every_reason_without_sideways_scrolling(browser, server: str) -> None:
    page = data_health(browser, server, "phone")
    try:
        scrolling = [g for g in page.evaluate(REASON_GRID_JS) if g["shown"] and g["scrollWidth"] > g["clientWidth"] + 1]
        assert scrolling == [], f"the table of reasons scrolls sideways at 390 px: {scrolling}"
        drawn = page.evaluate(REASON_TEXT_JS, REASONS)
        assert sorted(r["text"] for r in drawn) == sorted(REASONS), "a reason is not on the page as text"
        outside = [r for r in drawn if r["left"] < 0 or r["right"] > 390 or r["cut"]]
        assert outside == [], f"a reason is cut or beyond the screen's 390 px: {outside}"
    finally:
        page.context.close()


def test_desktop_keeps_the_table(browser, server: str) -> None:
    page = data_health(browser, server, "desktop")
    try:
        grids = page.evaluate(REASON_GRID_JS)
        assert [g["shown"] for g in grids] == [True]
        assert grids[0]["scrollWidth"] <= grids[0]["clientWidth"] + 1
        assert page.evaluate(REASON_TEXT_JS, REASONS) == [], "the phone's list shows on a desktop too"
    finally:
        page.context.close()
