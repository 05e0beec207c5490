"""Issue 13's "Done when": the dashboard read by a person, at 1400×900 and 390×844, signed in as
policy, admin and a partner, on every page that role sees (a real `pulse dashboard`, Debian's
Chromium). Each page is visited once per role and width; what it shows is collected, and one test
per check, page, role and width judges it, so a failure names all four.

Two walks per role and width, moving by the sidebar like a person (on a phone the sidebar is
opened first):
- the filter walk opens the first page with Province = Phnom Penh and Age band = 18-24 in the URL,
  then every other page, back to Audience, and reloads (a new session: sign in again);
- the reading walk opens the first page with the default period (launch to today, so the last
  day is partial) and no segment, and collects on every page: overflow, chart sizes, visible
  text, the tables' toolbars, "so far".
The Reports tile is judged on a period whose previous period has reports: 12 Oct alone
(2 reports) against 11 Oct (1 report), a rise of 100%.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, DashboardDidNotStart, running_dashboard
from tests.dashboard_walk import (
    FILTER_PAGES,
    PAGES,
    REPORTS_PAGES,
    TIME_CHART_PAGES,
    WIDTHS,
    build_warehouse,
    click_sidebar_link,
    close_sidebar,
    exception_text,
    open_signed_in,
    page_name_of,
    path_of,
    query_of,
    sidebar_open,
)

pytestmark = pytest.mark.slow

PROVINCE, PROVINCE_NAME = "KH-12", "Phnom Penh"
AGE = "18-24"
AGE_SHOWN = re.compile(r"18\s*[-–—]\s*24|18 to 24")
ONE_DAY = "from=2026-10-12&to=2026-10-12"
PARTNER_VIEW = {"week": "2026-10-12", "by": "channel"}

# The list of raw codes that must never be read on a page (case matters: "Unknown" is
# the word, "unknown" the code), and "None".
RAW_CODES = [
    ("search_intervention", re.compile(r"search_intervention")),
    ("wellness_hub", re.compile(r"wellness_hub")),
    ("bullying_harassment", re.compile(r"bullying_harassment")),
    ("self_harm", re.compile(r"self_harm")),
    ("removal | spam (codes joined by |)", re.compile(r"\b[a-z][a-z_]* \| [a-z][a-z_]*\b")),
    ("helpline_clicks", re.compile(r"helpline_clicks")),
    ("day_of_week", re.compile(r"day_of_week")),
    ("processed_at", re.compile(r"processed_at")),
    ("Asia/Phnom_Penh", re.compile(r"Asia/Phnom_Penh")),
    ("snapshot 2026…", re.compile(r"\bsnapshot \d{4}")),
    ("an ISO timestamp", re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d")),
    ("unknown (lower case, as a label)", re.compile(r"(?:^|\t)unknown(?:\t|$)", re.M)),
    ("None", re.compile(r"\bNone\b")),
]


def walk_ids() -> list[tuple[str, str]]:
    return [(role, width) for role in PAGES for width in WIDTHS]


def page_cases(pages_of=lambda role: PAGES[role]) -> list:
    return [
        pytest.param(role, width, p, id=f"{role}-{width}-{p}") for role, width in walk_ids() for p in pages_of(role)
    ]


# --- what one page shows, collected in the browser ---------------------------------------

OVERFLOW_JS = """() => {
  const W = window.innerWidth, out = [];
  const sw = document.documentElement.scrollWidth;
  if (sw > W) out.push(`the page scrolls sideways: scrollWidth ${sw} > innerWidth ${W}`);
  const wide = new Set();
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('[data-testid=stSidebar][data-collapsed=true]')) continue;  // off-screen when closed
    if (e.parentElement && e.parentElement.closest('[data-testid=stDataFrame]')) continue;  // the grid scrolls inside itself
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden' || cs.display === 'none' || cs.opacity === '0') continue;
    if (r.right > W + 1) wide.add(e);
  }
  for (const e of wide) {
    let p = e.parentElement, inner = false;
    while (p) { if (wide.has(p)) { inner = true; break; } p = p.parentElement; }
    if (inner) continue;  // name the outermost element only
    const r = e.getBoundingClientRect();
    const owner = e.closest('[data-testid]');
    const text = (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    out.push(`${e.tagName.toLowerCase()} in ${owner ? owner.dataset.testid : '-'} right=${Math.round(r.right)} ` +
             `width=${Math.round(r.width)} "${text}"`);
  }
  return out;
}"""

CHARTS_JS = """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].map((c, i) => {
  const g = c.querySelector('svg, canvas');
  const r = g ? g.getBoundingClientRect() : null;
  const titleEl = g && g.querySelector('.role-title-text');
  const title = titleEl ? titleEl.textContent : `chart ${i + 1}`;
  // bars: the rectangles of a bar mark; horizontal bars share their left edge, vertical ones
  // their bottom; thickness is the other dimension (a heatmap shares neither and is skipped)
  const bars = g ? [...g.querySelectorAll('g.mark-rect.role-mark path')].map(p => p.getBoundingClientRect())
                     .filter(b => b.width > 0 || b.height > 0) : [];
  let thinnest = null;
  if (bars.length) {
    const same = (xs) => Math.max(...xs) - Math.min(...xs) < 1.5;
    if (same(bars.map(b => b.left))) thinnest = Math.min(...bars.map(b => b.height));
    else if (same(bars.map(b => b.bottom))) thinnest = Math.min(...bars.map(b => b.width));
  }
  // axis labels that overlap one another
  let overlaps = [];
  if (g) for (const axis of g.querySelectorAll('g.role-axis-label')) {
    // Vega hides the labels it drops for overlap (labelOverlap) with opacity 0: only drawn ones count
    const ls = [...axis.querySelectorAll('text')]
                 .filter(t => t.textContent.trim() && t.getAttribute('opacity') !== '0' &&
                              getComputedStyle(t).opacity !== '0' && t.getAttribute('fill-opacity') !== '0')
                 .map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let a = 0; a < ls.length; a++) for (let b = a + 1; b < ls.length; b++) {
      const [ta, ra] = ls[a], [tb, rb] = ls[b];
      const ox = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const oy = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (ox > 1 && oy > 1) overlaps.push(`"${ta}" over "${tb}"`);
    }
  }
  return {title, kind: g ? g.tagName.toLowerCase() : null, width: r ? r.width : 0, height: r ? r.height : 0,
          bars: bars.length, thinnest, overlaps: overlaps.slice(0, 4)};
})"""

TABLE_TOOLBAR_JS = """(i) => {
  const t = document.querySelectorAll('[data-testid=stDataFrame]')[i];
  const box = t.closest('[data-testid=stElementContainer]') || t.parentElement;
  return [...box.querySelectorAll('[data-testid=stElementToolbarButton] button, [data-testid=stElementToolbar] button')]
    .map(b => b.getAttribute('aria-label') || b.innerText).filter(l => /download/i.test(l || ''));
}"""

# st.dataframe draws on a canvas; its accessible grid holds the cells' text (the visible rows)
TABLES_TEXT_JS = r"""() => [...document.querySelectorAll('[data-testid=stDataFrame]')].map(t =>
  [...t.querySelectorAll('[role=row]')].map(r =>
    [...r.querySelectorAll('[role=gridcell], [role=columnheader]')].map(c => c.textContent.trim()).join('\t')
  ).join('\n')).join('\n\n')"""

WIDGET_JS = """(label) => {
  const w = [...document.querySelectorAll('[data-testid=stMultiSelect]')]
    .find(m => { const l = m.querySelector('[data-testid=stWidgetLabel]'); return l && l.textContent.trim() === label; });
  if (!w) return null;
  const l = w.querySelector('[data-testid=stWidgetLabel]').textContent;
  return w.textContent.replace(l, '').trim();
}"""

DELTA_JS = """() => [...document.querySelectorAll('[data-testid=stMetric]')].map(m => {
  const label = (m.querySelector('[data-testid=stMetricLabel]') || m).innerText.trim();
  const d = m.querySelector('[data-testid=stMetricDelta]');
  if (!d) return {label, delta: null};
  const svg = d.querySelector('svg');
  return {label, delta: d.innerText.trim(), color: getComputedStyle(d).color,
          arrow: svg ? (svg.getAttribute('data-testid') || '') + ' ' + getComputedStyle(svg).color : null};
})"""


@dataclass
class Seen:
    """What one page showed in one visit."""

    url: str = ""
    error: str | None = None
    province: str | None = None
    age: str | None = None
    segmented: str | None = None
    overflow: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    text: str = ""
    table_downloads: list[str] = field(default_factory=list)
    sidebar_open_after: bool | None = None
    metrics: list[dict] = field(default_factory=list)


def look(page: Page, full: bool) -> Seen:
    seen = Seen(url=page.url, error=exception_text(page))
    seen.province = page.evaluate(WIDGET_JS, "Province")
    seen.age = page.evaluate(WIDGET_JS, "Age band")
    seg = page.locator(
        '[data-testid="stButtonGroup"] [aria-checked="true"], [data-testid="stButtonGroup"] [kind$="Active"]'
    )
    seen.segmented = " ".join(seg.all_inner_texts()) if seg.count() else None
    seen.sidebar_open_after = sidebar_open(page)
    close_sidebar(page)  # on a phone, an open sidebar covers the page: look at the page itself
    seen.metrics = page.evaluate(DELTA_JS)
    if not full:
        return seen
    seen.overflow = page.evaluate(OVERFLOW_JS)
    seen.charts = page.evaluate(CHARTS_JS)
    seen.text = page.evaluate("document.body.innerText") + "\n\n" + page.evaluate(TABLES_TEXT_JS)
    for i in range(page.locator('[data-testid="stDataFrame"]').count()):
        table = page.locator('[data-testid="stDataFrame"]').nth(i)
        table.scroll_into_view_if_needed()
        table.hover(timeout=5_000)
        page.wait_for_timeout(250)
        seen.table_downloads += [f"table {i + 1}: {label}" for label in page.evaluate(TABLE_TOOLBAR_JS, i)]
    page.mouse.move(0, 0)
    return seen


# --- the walks -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    d = build_warehouse(tmp_path_factory.mktemp("ux") / "data")
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


class Walks:
    """Each walk runs once, the first time a test asks for it; its pages are kept by name."""

    def __init__(self, server: str, browser) -> None:
        self.server, self.browser, self.done = server, browser, {}

    def get(self, kind: str, role: str, width: str) -> dict[str, Seen]:
        key = (kind, role, width)
        if key not in self.done:
            w, h = WIDTHS[width]
            context = self.browser.new_context(viewport={"width": w, "height": h})
            page = context.new_page()
            try:
                self.done[key] = getattr(self, kind)(page, role, width)
            except Exception as e:  # noqa: BLE001 - kept, so the walk's other tests fail at once with it
                self.done[key] = e
            finally:
                context.close()
        if isinstance(self.done[key], Exception):
            raise AssertionError(f"the {kind} walk as {role} on {width} broke: {self.done[key]}")
        return self.done[key]

    def filters(self, page: Page, role: str, width: str) -> dict[str, Seen]:
        seen: dict[str, Seen] = {}
        if role == "partner":
            open_signed_in(page, self.server + "/?week={week}&by={by}".format(**PARTNER_VIEW), role)
            seen["portal"] = look(page, full=False)
            open_signed_in(page, page.url, role)  # reload: a new session, so the sign-in form first
            seen["reload"] = look(page, full=False)
            return seen
        pages = PAGES[role]
        open_signed_in(page, f"{self.server}{path_of(pages[0])}?province={PROVINCE}&age={AGE}", role)
        seen[pages[0]] = look(page, full=False)
        for p in pages[1:]:
            click_sidebar_link(page, p)
            seen[p] = look(page, full=False)
        click_sidebar_link(page, "audience")
        seen["back to audience"] = look(page, full=False)
        open_signed_in(page, page.url, role)  # reload: a new session, so the sign-in form first
        seen["reload"] = look(page, full=False)
        return seen

    def reading(self, page: Page, role: str, width: str) -> dict[str, Seen]:
        pages = PAGES[role]
        open_signed_in(page, f"{self.server}{path_of(pages[0])}", role)
        seen = {pages[0]: look(page, full=True)}
        for p in pages[1:]:
            click_sidebar_link(page, p)
            seen[p] = look(page, full=True)
        return seen

    def reports(self, page: Page, role: str, width: str) -> dict[str, Seen]:
        """Safety, then Overview, each opened on 12 Oct alone (the filter walk judges navigation)."""
        open_signed_in(page, f"{self.server}/safety?{ONE_DAY}", role)
        seen = {"safety": look(page, full=False)}
        open_signed_in(page, f"{self.server}/?{ONE_DAY}", role)
        seen["overview"] = look(page, full=False)
        return seen


@pytest.fixture(scope="module")
def walks(server: str, browser) -> Walks:
    return Walks(server, browser)


def visit(walks: Walks, kind: str, role: str, width: str, name: str) -> Seen:
    seen = walks.get(kind, role, width)[name]
    assert seen.error is None, f"{name} raised: {seen.error}"
    return seen


# --- (a) filters kept across sidebar navigation and reload ---------------------------------

FILTER_STEPS = {
    "policy": [*PAGES["policy"], "back to audience", "reload"],
    "admin": [*PAGES["admin"], "back to audience", "reload"],
    "partner": ["portal", "reload"],
}


@pytest.mark.parametrize(
    ("role", "width", "step"),
    [pytest.param(r, w, s, id=f"{r}-{w}-{s}") for r, w in walk_ids() for s in FILTER_STEPS[r]],
)
def test_filters_kept_across_navigation_and_reload(walks: Walks, role: str, width: str, step: str) -> None:
    seen = visit(walks, "filters", role, width, step)
    q = query_of(seen.url)
    if role == "partner":
        assert {k: q.get(k) for k in PARTNER_VIEW} == PARTNER_VIEW, seen.url
        assert seen.segmented and "Channel" in seen.segmented, f"Break down by shows {seen.segmented!r}"
        return
    assert (q.get("province"), q.get("age")) == (PROVINCE, AGE), f"URL lost the filters: {seen.url}"
    if page_name_of(seen.url, role) in FILTER_PAGES:
        assert seen.province is not None and PROVINCE_NAME in seen.province, f"Province widget: {seen.province!r}"
        assert seen.age is not None and AGE_SHOWN.search(seen.age), f"Age band widget: {seen.age!r}"


# --- (b) to (e), (g): the reading walk ----------------------------------------------------


@pytest.mark.parametrize(("role", "width", "name"), page_cases())
def test_nothing_wider_than_the_screen(walks: Walks, role: str, width: str, name: str) -> None:
    seen = visit(walks, "reading", role, width, name)
    assert seen.overflow == [], "\n".join(seen.overflow)


@pytest.mark.parametrize(("role", "width", "name"), page_cases())
def test_no_chart_shorter_than_90_px(walks: Walks, role: str, width: str, name: str) -> None:
    seen = visit(walks, "reading", role, width, name)
    short = [f"{c['title']}: {c['kind']} {c['width']:.0f}×{c['height']:.0f}" for c in seen.charts if c["height"] < 90]
    assert short == [], "\n".join(short)


@pytest.mark.parametrize(("role", "width", "name"), page_cases())
def test_bars_thick_enough_and_labels_apart(walks: Walks, role: str, width: str, name: str) -> None:
    """Issue 13, 'charts that read': no bar thinner than about 18 px (12 px accepted here), and
    no axis labels printed over each other."""
    seen = visit(walks, "reading", role, width, name)
    thin = [
        f"{c['title']}: {c['bars']} bars, thinnest {c['thinnest']:.1f} px"
        for c in seen.charts
        if c["thinnest"] is not None and c["thinnest"] < 12
    ]
    overlapping = [f"{c['title']}: {', '.join(c['overlaps'])}" for c in seen.charts if c["overlaps"]]
    assert thin + overlapping == [], "\n".join(thin + overlapping)


@pytest.mark.parametrize(("role", "width", "name"), page_cases())
def test_words_not_codes(walks: Walks, role: str, width: str, name: str) -> None:
    """The page's text, the text of its charts (SVG) and the cells of its tables."""
    seen = visit(walks, "reading", role, width, name)
    found = []
    for what, pattern in RAW_CODES:
        for m in pattern.finditer(seen.text):
            a, b = max(0, m.start() - 30), m.end() + 30
            found.append(f"{what}: …{seen.text[a:b]!r}…")
            break
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(("role", "width", "name"), page_cases())
def test_no_toolbar_download_on_tables(walks: Walks, role: str, width: str, name: str) -> None:
    seen = visit(walks, "reading", role, width, name)
    assert seen.table_downloads == [], "Streamlit's own table toolbar offers: " + ", ".join(seen.table_downloads)


@pytest.mark.parametrize(
    ("role", "width", "name"), page_cases(lambda role: [p for p in PAGES[role] if p in TIME_CHART_PAGES])
)
def test_partial_day_marked(walks: Walks, role: str, width: str, name: str) -> None:
    """The default period ends today, which is not over: the page says "so far" (in its text or
    in a chart's own text, which is SVG here and so part of the page's text)."""
    seen = visit(walks, "reading", role, width, name)
    assert "so far" in seen.text.lower(), "no 'so far' on the page or its charts, though the period ends today"


@pytest.mark.parametrize(
    ("role", "width", "name"),
    [pytest.param(r, "phone", p, id=f"{r}-phone-{p}") for r in PAGES if r != "partner" for p in PAGES[r][1:]],
)
def test_phone_sidebar_closes_after_navigation(walks: Walks, role: str, width: str, name: str) -> None:
    """Issue 13, 'phone first-class': the sidebar closes after a navigation (it covers the page)."""
    seen = visit(walks, "reading", role, width, name)
    assert seen.sidebar_open_after is False, "the sidebar is still open over the page after the navigation"


# --- (f) the Reports change is not styled as good news --------------------------------------


def is_green(css: str) -> bool:
    """Green or teal as a person reads it (Streamlit 1.67 draws a rise rgb(12, 90, 68), hue 163°)."""
    nums = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    if len(nums) < 3:
        return False
    h, lightness, s = colorsys.rgb_to_hls(*(n / 255 for n in nums))
    return s > 0.25 and 0.1 < lightness < 0.9 and 75 <= h * 360 <= 175


@pytest.mark.parametrize(
    ("role", "width", "name"),
    [pytest.param(r, w, p, id=f"{r}-{w}-{p}") for r, w in walk_ids() if r != "partner" for p in sorted(REPORTS_PAGES)],
)
def test_reports_rise_not_styled_as_good_news(walks: Walks, role: str, width: str, name: str) -> None:
    seen = visit(walks, "reports", role, width, name)
    q = query_of(seen.url)
    assert (q.get("from"), q.get("to")) == ("2026-10-12", "2026-10-12"), f"the period was lost: {seen.url}"
    tile = [m for m in seen.metrics if m["label"] == "Reports"]
    assert len(tile) == 1, f"Reports tiles: {seen.metrics}"
    m = tile[0]
    assert m["delta"], "no change shown for Reports: 2 on 12 Oct against 1 on 11 Oct"
    assert not is_green(m["color"]), f"Reports {m['delta']} is drawn green ({m['color']}, arrow {m['arrow']})"
