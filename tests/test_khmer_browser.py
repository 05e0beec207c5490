"""Issue 15's "Done when", in a real Chromium on a real `pulse dashboard`: signed in as policy
and as a partner with `?lang=km`, every page at 1400×900 and 390×844 reads Khmer (at least 90%
of the letters of its visible text, names, hashtags and numbers aside); the language survives
moving by the sidebar and a reload; switching back to English leaves no Khmer. Two sessions in
different languages at once never see each other's words, and before sign-in the browser's
Accept-Language picks the form's language.

One server for the module; one walk per role and width (each test names what it found on
which page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, DashboardDidNotStart, running_dashboard, sign_in_form
from core import accounts
from core.settings import Settings
from tests.dashboard_fixtures import ACCOUNTS
from tests.dashboard_walk import (
    PAGES,
    WIDTHS,
    build_warehouse,
    click_sidebar_link,
    close_sidebar,
    exception_text,
    open_sidebar,
    open_signed_in,
    path_of,
    query_of,
    wait_idle,
)

pytestmark = pytest.mark.slow

KM_ACCOUNT, KM_PASSWORD = "tpo-km", "tpo khmer password"  # a partner account whose default is Khmer

KHMER = re.compile(r"[\u1780-\u17FF\u19E0-\u19FF]")
# What is not a word of the interface: the language switch itself (each language named in its
# own script), icons drawn from their names, Streamlit's own header and sidebar buttons.
SKIP = ", ".join(
    [
        ".st-key-pulse_lang",
        ".st-key-pulse_lang_sign_in",
        "[data-testid=stIconMaterial]",
        "[data-testid=stHeader]",
        "[data-testid=stSidebarCollapseButton]",
        "[data-testid=stExpandSidebarButton]",
        "[data-testid=stToolbar]",
        "[data-testid=stSkipToContent]",  # Streamlit's own, shown to a keyboard only on focus
    ]
)
VISIBLE_TEXT_JS = """(skip) => {
  const out = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (w.nextNode()) {
    const n = w.currentNode, e = n.parentElement;
    if (!e || !n.textContent.trim()) continue;
    if (e.closest('script, style, noscript, title') || e.closest(skip)) continue;
    if (e.closest('[data-testid=stSidebar][data-collapsed=true]')) continue;
    if (!e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    out.push(n.textContent.trim());
  }
  return out.join('\\n');
}"""


CHART_FONTS_JS = """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart] svg text')]
  .filter(t => t.textContent.trim()).map(t => t.getAttribute('font-family') || getComputedStyle(t).fontFamily)"""
CHART_TEXT_JS = (
    """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart] svg text')].map(t => t.textContent)"""
)
# A title's marks above its letters (ិ ំ ់ ៍) drawn above the chart's SVG box are cut off unless the
# SVG lets them overflow into room the chart keeps above it.
CUT_TITLES_JS = """() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].flatMap(c => {
  const svg = c.querySelector('svg'); if (!svg) return [];
  const box = svg.getBoundingClientRect(), room = c.getBoundingClientRect();
  const visible = getComputedStyle(svg).overflow === 'visible';
  return [...svg.querySelectorAll('.role-title-text text')].filter(t => {
    const top = t.getBoundingClientRect().top;
    return top < box.top - 0.5 && (!visible || top < room.top - 0.5);
  }).map(t => t.textContent);
})"""
ENGLISH_MONTH = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def names() -> list[str]:
    """Proper names a page may show in their own spelling: the product, the campaign, the
    partners, the accounts, the time zone's abbreviation."""
    s = Settings()
    return sorted(
        ["Wellbeing Pulse", s.name, *(p.name for p in s.partners), *ACCOUNTS, "ICT", "MentalWell-Being"],
        key=len,
        reverse=True,
    )


def words_of(text: str) -> str:
    """The text with names, hashtags and numbers taken out."""
    for name in names():
        text = text.replace(name, " ")
    text = re.sub(r"#[\w\u1780-\u17FF-]+", " ", text)
    return re.sub(r"\d", " ", text)


def letters(text: str) -> tuple[int, int]:
    """(Khmer letters, all letters) of the words of `text` (Khmer vowel signs count as letters)."""
    chars = [c for c in words_of(text) if c.isalpha() or KHMER.match(c)]
    return sum(1 for c in chars if KHMER.match(c)), len(chars)


def visible_text(page: Page) -> str:
    return page.evaluate(VISIBLE_TEXT_JS, SKIP)


def khmer_share(page: Page) -> tuple[float, str]:
    text = visible_text(page)
    km, total = letters(text)
    latin = sorted({w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", words_of(text))})
    return (km / total if total else 0.0), ", ".join(latin[:40])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    d = build_warehouse(tmp_path_factory.mktemp("km") / "data")
    accounts.add(d, Settings(), KM_ACCOUNT, "partner", "tpo-cambodia", KM_PASSWORD, language="km")
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


def go(page: Page, name: str) -> None:
    """The sidebar's link to a page; the Overview's link is '?…' (its words are Khmer here)."""
    if name != "overview":
        return click_sidebar_link(page, name)
    open_sidebar(page)
    page.locator('[data-testid=stSidebar] a[href^="?"]').first.click()
    page.wait_for_function("() => (location.pathname.replace(/\\/$/, '') || '/') === '/'", timeout=30_000)
    wait_idle(page)


def switch_language(page: Page, lang: str) -> None:
    """Choose a language with the sidebar's control, as a person does."""
    open_sidebar(page)
    word = {"km": "ខ្មែរ", "en": "English"}[lang]
    page.locator(".st-key-pulse_lang button").filter(has_text=word).first.click()
    page.wait_for_timeout(300)
    wait_idle(page)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("role", ["policy", "partner"])
def test_every_page_reads_khmer_keeps_it_and_switches_back(server: str, browser, role: str, width: str) -> None:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    problems: list[str] = []
    try:
        pages = PAGES[role]
        open_signed_in(page, f"{server}{path_of(pages[0])}?lang=km", role)
        for i, name in enumerate([*pages, pages[0]]):
            if i:
                go(page, name)
            close_sidebar(page)
            if exception_text(page):
                problems.append(f"{name}: the page failed: {exception_text(page)[:200]}")
                continue
            share, latin = khmer_share(page)
            if share < 0.9:
                problems.append(f"{name}: {share:.0%} of the letters are Khmer; English words: {latin}")
            if query_of(page.url).get("lang") != "km":
                problems.append(f"{name}: the address lost lang=km: {page.url}")
            fonts = page.evaluate(CHART_FONTS_JS)
            if any("Khmer OS" not in f for f in fonts):
                problems.append(f"{name}: chart text not in a Khmer font: {sorted(set(fonts))[:3]}")
            cut = page.evaluate(CUT_TITLES_JS)
            if cut:
                problems.append(f"{name}: chart titles whose Khmer marks are cut off at the top: {cut[:3]}")
            months = [t for t in page.evaluate(CHART_TEXT_JS) if ENGLISH_MONTH.search(t)]
            if months:
                problems.append(f"{name}: English month names in the charts: {months[:5]}")
        page.reload()  # a new session: the sign-in form, in Khmer, then the same page
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        form_share, latin = khmer_share(page)
        if form_share < 0.9:
            problems.append(f"sign-in form after reload: {form_share:.0%} Khmer; English words: {latin}")
        open_signed_in(page, page.url, role)
        share, latin = khmer_share(page)
        if share < 0.9:
            problems.append(f"{pages[0]} after reload: {share:.0%} Khmer; English words: {latin}")
        switch_language(page, "en")
        for name in pages[-1:] if len(pages) > 1 else []:
            go(page, name)
        close_sidebar(page)
        left = sorted(set(re.findall(r"[\u1780-\u17FF]+", words_of(visible_text(page)))))
        if left:
            problems.append(f"after switching to English, Khmer is left: {left[:20]}")
        if query_of(page.url).get("lang") != "en":
            problems.append(f"after switching to English the address says {query_of(page.url).get('lang')!r}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_two_sessions_in_two_languages_never_see_each_others_words(server: str, browser) -> None:
    """Khmer and English sessions on the same server, interleaved: each keeps its own language,
    and the cached figures (which carry words: the portal's labels) are not shared across them."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 900}) for _ in range(2)]
    try:
        km, en = (c.new_page() for c in contexts)
        open_signed_in(km, f"{server}/?lang=km", "partner")
        open_signed_in(en, f"{server}/?lang=en", "partner")
        km.reload()
        open_signed_in(km, km.url, "partner")
        found_en = sorted(set(re.findall(r"[\u1780-\u17FF]+", words_of(visible_text(en)))))
        assert found_en == []
        share, latin = khmer_share(km)
        assert share >= 0.9, latin
        click_sidebar_link(en, "portal")
        assert re.findall(r"[\u1780-\u17FF]+", words_of(visible_text(en))) == []
    finally:
        for c in contexts:
            c.close()


def test_before_sign_in_the_browsers_language_is_used(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="km-KH",
                                  extra_http_headers={"Accept-Language": "km-KH,km;q=0.9,en;q=0.5"})  # fmt: skip
    try:
        page = context.new_page()
        page.goto(server)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        share, latin = khmer_share(page)
        assert share >= 0.9, latin
    finally:
        context.close()


def test_an_accounts_default_language_applies_after_sign_in(server: str, browser) -> None:
    """No `lang` in the address, an English browser: the form is English; the account's
    default (`--lang km`) makes the portal Khmer and puts lang=km in the address."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(server)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        assert re.findall(r"[\u1780-\u17FF]+", words_of(visible_text(page))) == []
        sign_in_form(page, KM_ACCOUNT, KM_PASSWORD)
        wait_idle(page)
        share, latin = khmer_share(page)
        assert share >= 0.9, latin
        assert query_of(page.url).get("lang") == "km"
    finally:
        context.close()
