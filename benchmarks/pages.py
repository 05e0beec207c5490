"""Benchmark: every dashboard page's queries, and its first full render in Chromium.

    .venv/bin/python -m benchmarks.pages --scale 100 [--json FILE] [--no-browser] [--lang km] [--keep DIR]

Builds a warehouse from demo data (scale 100 is about 10 million events) with the real
refresh, then for every page runs the same `queries.pages` calls the page makes (on a kept
read-only connection, as the dashboard does; no Streamlit cache), 9 times, for the default filter
(launch to the last day) and a narrow one (one province, one age band, one week):
median and p95 in ms. Then starts `pulse dashboard` and times, per page, a fresh
browser tab from navigation to the script finishing with its charts drawn. With `--lang km`
the queries run with the Khmer catalog active and the pages open with `?lang=km`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, running_dashboard
from core.datadir import DataDir
from core.settings import Settings
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.refresh import refresh
from queries import pages as q
from queries.filters import Filters

END = dt.date(2026, 11, 24)

# The queries each page makes (as in dashboard/views/*.py).
PAGE_QUERIES: dict[str, Callable[[Any, Settings, Filters], None]] = {
    "overview": lambda con, s, f: (
        q.kpis(con, s, f),
        q.kpis(con, s, f.previous()),
        q.daily_trend(con, s, f),
        q.weekly_rhythm(con, s, f),
    ),
    "audience": lambda con, s, f: q.reach_by_segment(con, s, f),
    "hub": lambda con, s, f: (
        q.hub_totals(con, s, f),
        q.hub_totals(con, s, f.previous()),
        q.hub_daily(con, s, f),
        q.tip_videos_by_partner(con, s, f),
    ),
    "referrals": lambda con, s, f: [
        q.referral_daily(con, s, f),
        *[q.referral_funnel(con, s, f, dim) for dim in ("partner_id", "entry_point", "channel")],
    ],
    "safety": lambda con, s, f: (
        q.safety_totals(con, s, f),
        q.safety_totals(con, s, f.previous()),
        q.safety_daily(con, s, f),
        q.safety_by_policy(con, s, f),
    ),
    "data-health": lambda con, s, f: (q.quarantine_by_reason(con), q.unreadable_files(con)),
}


def time_queries(d: DataDir, s: Settings, f: Filters, page: str, repeats: int = 9) -> tuple[float, float]:
    """Median and p95 ms of a page's queries on a kept connection, as the dashboard runs them
    (`queries.pages.Readers`); the one-off opening of the snapshot is not in the figure."""
    runs = []
    readers = q.Readers(d)
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            with readers.connection() as con:
                PAGE_QUERIES[page](con, s, f)
            runs.append((time.perf_counter() - started) * 1000)
    finally:
        readers.close()
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))]


BENCH_ACCOUNT = "bench-admin"


def time_renders(d: DataDir, lang: str = "en") -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from benchmarks.browser import sign_in_form
    from core import accounts

    password = "bench admin password"
    if accounts.get(d, BENCH_ACCOUNT) is None:
        accounts.add(d, Settings(), BENCH_ACCOUNT, "admin", None, password)
    out = {}
    with running_dashboard(d.root, d.root / "dashboard.log", timeout_s=120) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for page in PAGE_QUERIES:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.goto(f"{base}/{'' if page == 'overview' else page}" + ("" if lang == "en" else f"?lang={lang}"))
            tab.wait_for_selector('[data-testid="stTextInput"]', timeout=120_000)
            # every tab is a new session: timed from signing in (Argon2 check included) to the charts
            started = time.perf_counter()
            sign_in_form(tab, BENCH_ACCOUNT, password)
            tab.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
            if page != "data-health":
                tab.wait_for_selector(
                    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg', timeout=120_000
                )
            out[page] = (time.perf_counter() - started) * 1000
            tab.close()
        browser.close()
    return out


def run(
    scale: float, browser: bool, work: Path | None = None, lang: str = "en", keep: Path | None = None
) -> dict[str, Any]:
    """With `keep`, the warehouse is built in that folder once and reused by later runs of
    the same scale (so that runs compared with each other time the same data)."""
    from core import labels

    labels.use(lang)
    s = Settings()
    with contextlib.ExitStack() as stack:
        root = keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pulse-bench-pages-", dir=work)))
        d = DataDir(root / "data")
        built = root / "bench-built.json"
        known = json.loads(built.read_text()) if keep and built.exists() else None
        if keep and known is None and d.root.exists():
            raise SystemExit(f"{d.root} exists and was not built by this benchmark: give another --keep folder")
        if known is None or known["scale"] != scale:
            if known is not None:  # this benchmark's own warehouse, of another scale
                shutil.rmtree(d.root)
            d.ensure()
            write_demo_data(s, d, DemoSpec(days=60, scale=scale, seed=1, end=END))
            started = time.perf_counter()
            refreshed = refresh(s, d, settle_seconds=0)
            known = {
                "scale": scale,
                "events": sum(c.loaded for c in refreshed.streams.values()),
                "refresh_s": round(time.perf_counter() - started, 1),
            }
            if keep:
                built.write_text(json.dumps(known) + "\n")
        events, build_s = known["events"], known["refresh_s"]
        wide = Filters(s.launch, END)
        narrow = Filters(END - dt.timedelta(days=6), END, ("KH-12",), ("18-24",))
        result: dict[str, Any] = {
            "scale": scale,
            "lang": lang,
            "events": events,
            "refresh_s": build_s,
            "pages": {},
        }
        for page in PAGE_QUERIES:
            med, p95 = time_queries(d, s, wide, page)
            med_n, p95_n = time_queries(d, s, narrow, page)
            result["pages"][page] = {
                "default_median_ms": round(med, 1),
                "default_p95_ms": round(p95, 1),
                "narrow_median_ms": round(med_n, 1),
                "narrow_p95_ms": round(p95_n, 1),
            }
        if browser and not Path(CHROMIUM).is_file():  # the queries' figures are kept, not lost with the run
            result["renders_not_measured"] = f"{CHROMIUM} is missing (.ci/setup --browser installs it)"
        elif browser:
            for page, ms in time_renders(d, lang).items():
                result["pages"][page]["first_render_ms"] = round(ms)
    return result


def report(r: dict[str, Any]) -> str:
    lines = [
        f"dashboard pages on {r['events']:,} events (demo scale {r['scale']:g}; refresh {r['refresh_s']} s;"
        f" language {r.get('lang', 'en')})",
        f"  {'page':<13}{'default med':>12}{'p95':>8}{'narrow med':>12}{'p95':>8}{'first render':>14}",
    ]
    for page, v in r["pages"].items():
        render = f"{v['first_render_ms']:,} ms" if "first_render_ms" in v else "-"
        lines.append(
            f"  {page:<13}{v['default_median_ms']:>9.1f} ms{v['default_p95_ms']:>8.1f}"
            f"{v['narrow_median_ms']:>9.1f} ms{v['narrow_p95_ms']:>8.1f}{render:>14}"
        )
    if why := r.get("renders_not_measured"):
        lines.append(f"  first renders not measured: {why}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo-data scale (100 is about 10M events)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--lang", choices=["en", "km"], default="en", help="the pages' language (?lang=)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="build the warehouse in DIR once and reuse it on later runs"
    )
    args = parser.parse_args()
    r = run(args.scale, not args.no_browser, lang=args.lang, keep=args.keep)
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
