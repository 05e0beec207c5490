"""The page around the figures: phone and print stylesheets, the sidebar links that keep the
filters, "Copy link to this view", and the small scripts Streamlit has no option for (Enter
applies a typed date; on a phone the sidebar closes after a page is chosen)."""

from __future__ import annotations

import html

import polars as pl
import streamlit as st

from core.labels import _

PHONE = 640  # px: Streamlit stacks columns below this width

CSS = f"""
<div class="pulse-hidden"></div>
<style>
/* Phone: KPI tiles two per row (Streamlit would stack them one per row), nothing wider than the screen */
@media (max-width: {PHONE}px) {{
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {{
    flex-wrap: wrap !important; flex-direction: row !important; gap: 0.5rem !important;
  }}
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) > [data-testid="stColumn"] {{
    flex: 1 1 calc(50% - 0.5rem) !important; min-width: calc(50% - 0.5rem) !important;
    width: calc(50% - 0.5rem) !important;
  }}
  [data-testid="stMetric"] {{ padding: 0.5rem 0.6rem !important; }}
  /* two tiles side by side are as tall as each other, however many lines their labels take (Khmer wraps more) */
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) > [data-testid="stColumn"] > div,
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) [data-testid="stElementContainer"]:has([data-testid="stMetric"]),
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) [data-testid="stMetric"] {{ height: 100% !important; }}
  [data-testid="stMetricValue"] {{ font-size: 1.5rem !important; }}
  [data-testid="stMetricLabel"] p {{ white-space: normal !important; }}
  [data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {{ white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
  h1 {{ font-size: 1.25rem !important; line-height: 1.25 !important; padding: 0.5rem 0 0.5rem !important; }}
  [data-testid="stButtonGroup"] > div {{ flex-wrap: wrap !important; }}
  [data-testid="stMainBlockContainer"] {{ padding-left: 1rem !important; padding-right: 1rem !important; }}
  /* a table a phone cannot fit is shown there as a stacked list instead (wide_only / phone_only) */
  [class*="st-key-wide_"], [data-testid="stLayoutWrapper"]:has(> [class*="st-key-wide_"]) {{ display: none !important; }}
}}
@media (min-width: {PHONE + 1}px) {{
  [class*="st-key-phone_"], [data-testid="stLayoutWrapper"]:has(> [class*="st-key-phone_"]) {{ display: none !important; }}
}}
.pulse-stack {{ list-style: none; margin: 0 !important; padding: 0 !important; max-height: 28rem; overflow-y: auto;
  border: 1px solid rgba(49, 51, 63, 0.1); border-radius: 0.5rem; }}
.pulse-stack li {{ margin: 0 !important; padding: 0.45rem 0.75rem; border-top: 1px solid rgba(49, 51, 63, 0.1); }}
.pulse-stack li:first-child {{ border-top: none; }}
.pulse-stack-head {{ font-size: 0.8rem; color: rgba(49, 51, 63, 0.75); overflow-wrap: anywhere; }}
.pulse-stack-head b {{ color: rgb(49, 51, 63); font-weight: 600; }}
.pulse-stack-long {{ white-space: normal; overflow-wrap: anywhere; }}
[data-testid="stMain"] {{ overflow-x: hidden; }}
.pulse-print-only {{ display: none; }}
/* the stylesheet, the scripts and the print header take no room on screen */
[data-testid="stElementContainer"]:has(.pulse-hidden),
[data-testid="stElementContainer"]:has(.pulse-print-only) {{ display: none; }}
.pulse-copy-link {{
  display: inline-flex; align-items: center; gap: 0.35rem; font: inherit; font-size: 0.875rem;
  padding: 0.25rem 0.75rem; border-radius: 0.5rem; border: 1px solid rgba(49, 51, 63, 0.2);
  background: transparent; color: inherit; cursor: pointer;
}}
.pulse-copy-link:hover {{ border-color: #1F7A6B; color: #1F7A6B; }}
/* Print: no sidebar or buttons, charts one per row, the filters and data time in the header */
@media print {{
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stDownloadButton"],
  [data-testid="stPageLink"], [data-testid="stButton"], .pulse-copy-link {{ display: none !important; }}
  .pulse-print-only {{ display: block !important; }}
  [data-testid="stElementContainer"]:has(.pulse-print-only) {{ display: block !important; }}
  [data-testid="stMain"] {{ margin-left: 0 !important; overflow: visible !important; }}
  [data-testid="stMainBlockContainer"] {{ max-width: 100% !important; padding: 0 !important; }}
  [data-testid="stHorizontalBlock"]:has([data-testid="stVegaLiteChart"]) {{ flex-direction: column !important; }}
  [data-testid="stHorizontalBlock"]:has([data-testid="stVegaLiteChart"]) > [data-testid="stColumn"] {{
    width: 100% !important; flex: 1 1 100% !important;
  }}
  [data-testid="stVegaLiteChart"], [data-testid="stMetric"] {{ break-inside: avoid; }}
}}
</style>
"""

SCRIPT = f"""
<div class="pulse-hidden"></div>
<script>
(() => {{
  if (window.pulseChrome) return;  // one set of listeners per browser tab
  window.pulseChrome = true;
  // Enter in a date field applies the typed date, as leaving the field does
  document.addEventListener("keydown", (e) => {{
    if (e.key === "Enter" && e.target.closest && e.target.closest('[data-testid="stDateInput"]')) {{
      // the field applies a typed date when focus leaves it for somewhere else
      e.target.dispatchEvent(new FocusEvent("focusout", {{ bubbles: true, relatedTarget: document.body }}));
      e.target.blur();
    }}
  }}, true);
  // On a phone the sidebar lies over the page: close it once a page is chosen
  document.addEventListener("click", (e) => {{
    const link = e.target.closest && e.target.closest('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]');
    if (!link || window.innerWidth > {PHONE + 128}) return;
    setTimeout(() => {{
      const close = document.querySelector('[data-testid="stSidebar"] [data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }}, 50);
  }}, true);
  // "Copy link to this view": the address with every filter in it
  document.addEventListener("click", async (e) => {{
    const button = e.target.closest && e.target.closest(".pulse-copy-link");
    if (!button) return;
    const url = window.location.href;
    let done = false;
    try {{ await navigator.clipboard.writeText(url); done = true; }} catch (err) {{
      const area = document.createElement("textarea");
      area.value = url; document.body.appendChild(area); area.select();
      try {{ done = document.execCommand("copy"); }} catch (err2) {{}}
      area.remove();
    }}
    button.dataset.copied = url;
    const label = button.querySelector("span");
    label.textContent = done ? button.dataset.done : url;
    setTimeout(() => {{ label.textContent = button.dataset.label; }}, 2500);
  }}, true);
}})();
</script>
"""


# Khmer: the marks above a chart title's first line (ិ ំ ់ ៍) reach above the font's ascent, out
# of the chart's SVG box, which cut them ("និង" read "នង"): let them show in room above the chart.
KHMER_CSS = """
<div class="pulse-hidden"></div>
<style>
[data-testid="stVegaLiteChart"] { padding-top: 8px; }
[data-testid="stVegaLiteChart"] svg { overflow: visible; }
</style>
"""


def chrome(lang: str = "en") -> None:
    """The stylesheets and scripts, once per run (they take no room on the page)."""
    st.html(CSS)
    if lang == "km":
        st.html(KHMER_CSS)
    st.html(SCRIPT, unsafe_allow_javascript=True)


def wide_only(name: str):
    """A container shown only wider than a phone (PHONE px): e.g. a table whose columns a phone
    cannot fit, with `phone_only(name)` holding the same rows as `stacked`."""
    return st.container(key=f"wide_{name}")


def phone_only(name: str):
    """A container shown only on a phone (PHONE px or narrower)."""
    return st.container(key=f"phone_{name}")


def stacked(rows: pl.DataFrame, long: str) -> None:
    """A table as a phone reads it: one block a row, its short columns on a first line as
    "name value" pairs, the column `long` below it in full, wrapping (no sideways scroll). The
    values are shown as they are: format numbers before."""
    short = [c for c in rows.columns if c != long]
    items = []
    for row in rows.iter_rows(named=True):
        head = " · ".join(f"{html.escape(c)} <b>{html.escape(str(row[c]))}</b>" for c in short)
        items.append(
            f'<li><div class="pulse-stack-head">{head}</div>'
            f'<div class="pulse-stack-long">{html.escape(str(row[long]))}</div></li>'
        )
    st.html(f'<ul class="pulse-stack">{"".join(items)}</ul>')


def copy_link() -> None:
    """A button that copies the page's address, filters included."""
    text, done = html.escape(_("Copy link to this view")), html.escape(_("Link copied"))
    st.html(
        f'<button class="pulse-copy-link" type="button" data-label="{text}" data-done="{done}">'
        f"<span>{text}</span></button>"
    )


def print_header(*lines: str) -> None:
    """Lines printed at the top of the page on paper only (the filters, the data's time)."""
    body = "<br>".join(html.escape(line) for line in lines if line)
    st.html(f'<div class="pulse-print-only" style="font-size:0.85rem;color:#333">{body}</div>')


def nav_links(pages: list[st.Page], params: dict[str, str]) -> None:
    """The sidebar's page links, each carrying the filters (Streamlit's own navigation links
    drop query parameters)."""
    for page in pages:
        st.page_link(page, query_params=params)
