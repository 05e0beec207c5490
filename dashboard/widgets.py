"""Small building blocks shared by pages: KPI tiles, downloads, empty states."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import auth, state
from dashboard import format as fmt
from queries.filters import Comparison, Filters
from queries.privacy import suppress

NOT_COUNTS = {"day_of_week", "hour"}  # integer columns that are labels, not counts


def kpi(
    label: str,
    now: int | None,
    change: str | None,
    help: str,
    value: str | None = None,
    *,
    good: bool = True,
) -> None:
    """A tile with the period's value and its change (`Comparison.change`, or None). `good`:
    a rise is good news (green up, red down); otherwise (reports, removals) the change is
    drawn in a neutral colour, the arrow alone saying which way it went."""
    st.metric(
        label,
        value or fmt.count(now),
        delta=change,
        delta_color="normal" if good else "off",
        help=help,
        border=True,
    )


def compared(c: Comparison) -> None:
    """One line under the tiles saying what their changes compare, or why none is shown."""
    if c.withheld:
        st.caption(c.withheld)
    elif c.sentence:
        st.caption(f"Changes: {c.sentence}.")


def download(df: pl.DataFrame, name: str, f: Filters | None, label: str = "Download CSV") -> None:
    """A CSV of what is shown, with every count from 1 to min_cell - 1 written `<min_cell`
    (CONTRACT §4: every figure in any export); a click is recorded in the audit log with the
    signed-in account, the page and the file name. The file name says which period and
    segments made it (`Filters.file_name`); without filters (Data health), the snapshot."""
    n = state.settings().privacy.min_cell
    counts = [c for c, t in df.schema.items() if t.is_integer() and c not in NOT_COUNTS]
    slug = name.replace("_", "-")
    file_name = f.file_name(slug) if f is not None else f"pulse-{slug}-{state.snapshot_id()}.csv"
    st.download_button(
        label,
        suppress(df, counts, n).write_csv().encode("utf-8"),
        file_name=file_name,
        on_click=auth.record_export,
        args=(file_name,),
        mime="text/csv",
        key=f"download-{name}",
        icon=":material/download:",
        help=f"Counts from 1 to {n - 1} read <{n} in downloads.",
    )


def export_button(data: bytes, file_name: str, label: str, mime: str = "text/csv") -> None:
    """A download of prepared bytes (a partner table, report or PNG), recorded in the audit
    log on click like `download`."""
    st.download_button(
        label,
        data,
        file_name=file_name,
        on_click=auth.record_export,
        args=(file_name,),
        mime=mime,
        key=f"export-{file_name}",
        icon=":material/download:",
    )


def glossary_link() -> None:
    st.page_link("views/glossary.py", label="What every figure means", icon=":material/menu_book:")
