"""Full-page screenshots of every page, for every role, at both widths, on the test warehouse.

    .venv/bin/python -m tests.screenshots OUTDIR [--data-dir DIR] [--lang km]

Builds the warehouse of tests/dashboard_walk.build_warehouse (the browser tests' figures, on
12 Oct 2026) in a temporary directory, or uses DIR if given (a data dir with published data and
the accounts policy-test, admin-test and tpo-test, e.g. one built earlier), starts `pulse
dashboard` on it, signs in as policy, admin and a partner at 1400×900 ("desktop") and 390×844
("phone"), moves to every page by the sidebar as a person does (on a phone: opens it, and
closes it again if it stays over the page), and saves OUTDIR/ROLE-PAGE-WIDTH.png.
Used to look at the dashboard and to retake the README's screenshots (dashboard/assets/).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, running_dashboard
from core.datadir import DataDir
from tests.dashboard_walk import (
    PAGES,
    WIDTHS,
    build_warehouse,
    click_sidebar_link,
    close_sidebar,
    open_signed_in,
    path_of,
)

FULL_HEIGHT_JS = """() => Math.max(document.documentElement.scrollHeight,
  ...[...document.querySelectorAll('*')]
     .filter(e => !e.closest('[data-testid=stSidebar]'))
     .filter(e => e.scrollHeight > e.clientHeight + 2 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
     .map(e => e.scrollHeight + e.getBoundingClientRect().top))"""


def full_page_shot(page, path: Path) -> None:
    """Streamlit scrolls inside its main block, not the document, so Playwright's full_page
    captures one screen: make the window as tall as the content, shoot, and size it back."""
    size = page.viewport_size
    height = min(int(page.evaluate(FULL_HEIGHT_JS)) + 40, 20_000)
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(800)  # charts sized to their container redraw
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def take(base: str, out: Path, roles: list[str], widths: list[str], lang: str | None = None) -> list[Path]:
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for role in roles:
            for width in widths:
                w, h = WIDTHS[width]
                context = browser.new_context(viewport={"width": w, "height": h})
                page = context.new_page()
                pages = PAGES[role]
                open_signed_in(page, base + path_of(pages[0]) + (f"?lang={lang}" if lang else ""), role)
                for i, name in enumerate(pages):
                    if i:
                        click_sidebar_link(page, name)
                    close_sidebar(page)  # a phone's open sidebar covers the page
                    path = out / f"{role}-{name}-{width}{'-' + lang if lang else ''}.png"
                    full_page_shot(page, path)
                    saved.append(path)
                    print(path, flush=True)
                context.close()
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.screenshots", description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--data-dir", type=Path, help="use this data dir instead of building the test warehouse")
    ap.add_argument("--role", action="append", choices=list(PAGES), help="only this role (repeatable)")
    ap.add_argument("--width", action="append", choices=list(WIDTHS), help="only this width (repeatable)")
    ap.add_argument("--lang", choices=["km", "en"], help="open the pages with ?lang=LANG (files end in -LANG)")
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pulse-shots-") as tmp:
        root = args.data_dir or build_warehouse(Path(tmp) / "data").root
        with running_dashboard(DataDir(root).root, Path(tmp) / "dashboard.log") as base:
            saved = take(base, args.outdir, args.role or list(PAGES), args.width or list(WIDTHS), args.lang)
    print(f"{len(saved)} screenshots in {args.outdir} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
