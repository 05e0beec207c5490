"""Small building blocks shared by pages: KPI tiles, downloads, empty states."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import auth, downloads, state
from dashboard import format as fmt
from queries import csvfile
from queries.filters import Filters
from queries.labels import _
from queries.privacy import suppress

NOT_COUNTS = {"day_of_week", "hour"}  # integer columns that are labels, not counts


def kpi(label: str, now: int | None, before: int | None, help: str, value: str | None = None) -> None:
    """A tile with the value and its change against the previous period of equal length."""
    st.metric(label, value or fmt.count(now), delta=fmt.change(now, before), help=help, border=True)


def download(df: pl.DataFrame, name: str, f: Filters, label: str | None = None) -> None:
    """A CSV of what is shown, with every count from 1 to min_cell - 1 written `<min_cell`
    (CONTRACT §4: every figure in any export); a click is recorded in the audit log with the
    signed-in account, the page and the file name."""
    n = state.settings().privacy.min_cell
    counts = [c for c, t in df.schema.items() if t.is_integer() and c not in NOT_COUNTS]
    file_name = f"{name}_{f.start:%Y%m%d}-{f.end:%Y%m%d}.csv"
    st.download_button(
        label or _("Download CSV"),
        csvfile.to_bytes(suppress(df, counts, n)),
        file_name=file_name,
        on_click=auth.record_export,
        args=(file_name,),
        mime="text/csv",
        key=f"download-{name}",
        icon=":material/download:",
        help=_("Counts from 1 to {last} read <{n} in downloads.").format(last=n - 1, n=n),
    )
    downloads.keep_files()  # its URL serves only this signed-in session (dashboard/downloads.py)


def export_button(data: bytes | pl.DataFrame, file_name: str, label: str, mime: str = "text/csv") -> None:
    """A download of prepared bytes (a report or PNG) or of a table, written as CSV through
    queries/csvfile.py (formula-like cells quoted); recorded in the audit log on click like
    `download`."""
    if isinstance(data, pl.DataFrame):
        data = csvfile.to_bytes(data)
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
    downloads.keep_files()


def glossary_link() -> None:
    st.page_link("views/glossary.py", label=_("What every figure means"), icon=":material/menu_book:")
