"""Charts as a person sees them in a real Chromium at a desktop and a phone width: none
squashed, none wider than the screen, the partial day marked (`pulse dashboard`, every
policy page, as policy and as admin); the Hub's daily chart draws each series in a colour of
its own, told apart with full colour vision and with the two common colour-vision deficiencies,
in both languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, DashboardDidNotStart, running_dashboard, sign_in_form
from core import labels
from core.settings import Settings
from pipelines.refresh import refresh
from queries.pages import HUB_EVENT_TYPES
from tests.colours import too_close
from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build, eng
from tests.test_refresh import write_file

ARTIFACTS = REPO / "test-artifacts"
PAGES = ["", "audience", "hub", "referrals", "safety"]

# What the page shows, measured in the browser: the page's own width, every chart's box and
# plot area, every top-level element's box, and every bar drawn across (wider than tall).
MEASURE = """() => {
  const vw = document.documentElement.clientWidth;
  const box = e => e.getBoundingClientRect();
  const charts = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].map(c => {
    const plot = c.querySelector('g.role-frame.root > g > path.background');
    const title = c.querySelector('g.role-title text');
    const bars = [...c.querySelectorAll('g.mark-rect.role-mark path')].map(box).filter(r => r.width >= r.height && r.width > 0);
    return {
      title: title ? title.textContent : '',
      left: box(c).left, right: box(c).right, height: box(c).height,
      svgWidth: c.querySelector('svg') ? box(c.querySelector('svg')).width : 0,
      plotHeight: plot ? box(plot).height : 0,
      thinnestBar: bars.length ? Math.min(...bars.map(r => r.height)) : null,
      texts: [...c.querySelectorAll('text')].map(t => t.textContent),
    };
  });
  const wide = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stElementContainer]')]
    .filter(e => box(e).width > 0 && box(e).right > vw + 1)
    .map(e => `${e.querySelector('[data-testid]')?.dataset.testid} ${Math.round(box(e).right)}px`);
  return {vw, scrollWidth: document.documentElement.scrollWidth, charts, wide};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    d = build(tmp_path_factory.mktemp("charts") / "data")
    # the data runs from the launch to now, so the default period (launch..today, kept inside
    # the data's days) has the launch and today's partial day on its time charts
    s = Settings()
    now = dt.datetime.now(dt.UTC)
    launch = dt.datetime.combine(s.launch, dt.time(12), s.tz)
    # an event of today in Cambodia: half an hour ago, or just after its midnight if that is
    # later (run between 17:00 and 17:30 UTC, half an hour ago was yesterday there)
    midnight = dt.datetime.combine(now.astimezone(s.tz).date(), dt.time(), s.tz)
    recent = max(now - dt.timedelta(minutes=30), midnight + (now - midnight) / 2)
    for i, at in enumerate([launch, recent]):
        write_file(
            d,
            f"engagement/{at:%Y/%m/%d}/engagement-{i}.csv",
            [{**eng(90 + i, f"u9{i}", "view"), "event_time": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}],
        )
    assert refresh(s, d, settle_seconds=0, now=now + dt.timedelta(hours=1)).published
    add_accounts(d.root)
    try:
        with running_dashboard(d.root, tmp_path_factory.mktemp("log") / "dashboard.log") as base:
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


def idle(page: Page) -> None:
    for _ in range(2):
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        page.wait_for_timeout(400)


def charted_pages(server: str, browser, account: str, width: int, height: int, paths: list[str]):
    """Each of `paths` (page name, tab) in one tab signed in as `account`, once its charts are drawn."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(server + "/")
    idle(page)
    sign_in_form(page, account, ACCOUNTS[account][2])
    try:
        for path in paths:
            page.goto(f"{server}/{path}")
            idle(page)
            if page.get_by_label("Account name").count():  # a fresh tab: sign in again
                sign_in_form(page, account, ACCOUNTS[account][2])
                idle(page)
            page.wait_for_function("document.querySelectorAll('[data-testid=stVegaLiteChart] svg').length >= 1")
            page.wait_for_timeout(500)
            yield path or "overview", page
    finally:
        context.close()


@pytest.mark.parametrize("account", ["policy-test", "admin-test"])
@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_charts_fit_the_screen_and_are_never_squashed(
    server: str, browser, account: str, width: int, height: int
) -> None:
    problems: list[str] = []
    for name, page in charted_pages(server, browser, account, width, height, PAGES):
        m = page.evaluate(MEASURE)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"charts-{name}-{account}-{width}.png"), full_page=True)
        if m["scrollWidth"] > m["vw"]:
            problems.append(f"{name}: the page scrolls sideways ({m['scrollWidth']} px > {m['vw']} px)")
        problems += [f"{name}: {w} is wider than the {m['vw']} px screen" for w in m["wide"]]
        assert m["charts"], f"{name}: no chart drawn"
        for c in m["charts"]:
            what = f"{name}: chart {c['title']!r}"
            if c["right"] > m["vw"] + 1 or c["svgWidth"] > c["right"] - c["left"] + 1:
                problems.append(f"{what} is {c['svgWidth']:.0f} px wide on a {m['vw']} px screen")
            if c["height"] < 90 or c["plotHeight"] < 28:
                problems.append(f"{what} is squashed: {c['height']:.0f} px tall, plot {c['plotHeight']:.0f} px")
            if c["thinnestBar"] is not None and c["thinnestBar"] < 18:
                problems.append(f"{what} has a bar {c['thinnestBar']:.1f} px thick")
        if name == "overview":
            views = next(c for c in m["charts"] if c["title"].startswith("Views"))
            if "so far" not in views["texts"] or "Launch" not in views["texts"]:
                problems.append(f"overview: the Views chart marks no partial day or no launch: {views['texts']}")
    assert problems == [], "\n".join(problems)


# The series of a time chart as drawn: each solid line's series (its tooltip's `name`) and
# stroke, and each legend entry's label and swatch.
SERIES_COLOURS = """(title) => {
  const chart = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
    .find(c => c.querySelector('g.role-title text')?.textContent === title);
  if (!chart) return null;
  const lines = [...chart.querySelectorAll('path[aria-roledescription="line mark"]')]
    .filter(p => !p.getAttribute('stroke-dasharray'))
    .map(p => [(p.getAttribute('aria-label').match(/name: ([^;]*);/) || [])[1], p.getAttribute('stroke')]);
  const swatches = [...chart.querySelectorAll('g.role-legend-symbol path')].map(p => p.getAttribute('stroke'));
  const names = [...chart.querySelectorAll('g.role-legend-label text')].map(t => t.textContent);
  return {lines, legend: names.map((n, i) => [n, swatches[i]])};
}"""
# ΔE00 (CIEDE2000) every two series must keep between them: thin lines on white look closer
# than the colours side by side, so well past "noticeable" (about 2) to "different colours".
MARGINS = {"full colour vision": 30, "protanopia": 15, "deuteranopia": 15}


@pytest.mark.parametrize("lang", ["en", "km"])
def test_the_hub_chart_draws_each_series_in_a_clearly_distinct_colour(server: str, browser, lang: str) -> None:
    token = labels.use(lang)
    try:
        title = labels.gettext("Hub use per day")
        names = {labels.label("event_type", t) for t in HUB_EVENT_TYPES}
    finally:
        labels.reset(token)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/hub?lang={lang}")
    idle(page)
    sign_in_form(page, "policy-test", ACCOUNTS["policy-test"][2])
    idle(page)
    page.wait_for_function(f"({SERIES_COLOURS})({title!r}) && ({SERIES_COLOURS})({title!r}).lines.length >= 4")
    drawn = page.evaluate(SERIES_COLOURS, title)
    context.close()
    by_line: dict[str, set[str]] = {}
    for name, stroke in drawn["lines"]:
        by_line.setdefault(name, set()).add(stroke.upper())
    legend = {name: stroke.upper() for name, stroke in drawn["legend"]}
    assert set(by_line) == set(legend) == names, drawn
    assert by_line == {name: {colour} for name, colour in legend.items()}, drawn  # the legend tells the line
    problems = too_close(legend, MARGINS)
    assert problems == [], "\n".join(problems)


# The "so far" label of each time chart and the point markers of the same chart, as drawn.
SO_FAR = """(words) => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].flatMap(c => {
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const label = [...c.querySelectorAll('text')].find(t => t.textContent === words);
  if (!label) return [];
  const title = c.querySelector('g.role-title text');
  return [{title: title ? title.textContent : '', label: box(label),
           points: [...c.querySelectorAll('g.mark-symbol.role-mark path')].map(box).filter(r => r.right > r.left)}];
})"""
CLEARANCE_PX = 3  # at least this much room between the label and any point marker


def gap(a: dict, b: dict) -> float:
    """The distance between two boxes (0 when they touch or overlap)."""
    dx = max(b["left"] - a["right"], a["left"] - b["right"], 0)
    dy = max(b["top"] - a["bottom"], a["top"] - b["bottom"], 0)
    return (dx * dx + dy * dy) ** 0.5


@pytest.mark.parametrize("account", ["policy-test", "admin-test"])
@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_the_so_far_label_keeps_clear_of_every_point(
    server: str, browser, account: str, width: int, height: int
) -> None:
    """The partial day's "so far" sits apart from the last day's markers (it touched them)."""
    problems: list[str] = []
    for name, page in charted_pages(server, browser, account, width, height, ["", "hub", "referrals", "safety"]):
        found = page.evaluate(SO_FAR, "so far")
        assert found, f"{name}: no chart says 'so far'"
        for chart in found:
            near = [p for p in chart["points"] if gap(chart["label"], p) < CLEARANCE_PX]
            if near:
                problems.append(
                    f"{name}: {chart['title']!r}: 'so far' {chart['label']} is within "
                    f"{CLEARANCE_PX} px of {len(near)} point(s), e.g. {near[0]}"
                )
    assert problems == [], "\n".join(problems)
