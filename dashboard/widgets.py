"""Small building blocks shared by pages: KPI tiles, downloads, empty states."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core import csvfile, labels
from core.labels import _
from dashboard import auth, charts, downloads, state
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


def altair_chart(chart, **kwargs) -> None:
    """`st.altair_chart` in the session's language: Khmer font, month names, digits
    (dashboard/charts.py `in_language`)."""
    st.altair_chart(charts.in_language(chart, labels.language(), state.khmer_digits()), **kwargs)


def compared(c: Comparison) -> None:
    """One line under the tiles saying what their changes compare, or why none is shown."""
    if c.withheld:
        st.caption(c.withheld)
    elif c.sentence:
        st.caption(_("Changes: {sentence}.").format(sentence=c.sentence))


def download(df: pl.DataFrame, name: str, f: Filters | None, label: str | None = None) -> None:
    """A CSV of what is shown, with every count from 1 to min_cell - 1 written `<min_cell`
    (CONTRACT §4: every figure in any export); a click is recorded in the audit log with the
    signed-in account, the page and the file name. The file name says which period and
    segments made it (`Filters.file_name`); without filters (Data health), the snapshot."""
    n = state.settings().privacy.min_cell
    counts = [c for c, t in df.schema.items() if t.is_integer() and c not in NOT_COUNTS]
    slug = name.replace("_", "-")
    file_name = f.file_name(slug) if f is not None else f"pulse-{slug}-{state.snapshot_id()}.csv"
    st.download_button(
        label or _("Download CSV"),
        csvfile.to_bytes(suppress(df, counts, n), bom=csvfile.bom_for(labels.language())),
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
    core/csvfile.py (formula-like cells quoted); recorded in the audit log on click like
    `download`."""
    if isinstance(data, pl.DataFrame):
        data = csvfile.to_bytes(data, bom=csvfile.bom_for(labels.language()))
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


def alert_days(metrics: set[str], f: Filters) -> list[tuple]:
    """Markers for a time chart: the open alert incidents about `metrics` in the filtered place
    (one province chosen, or the whole country), on the day they peaked (queries/alerts.py)."""
    from queries import alerts

    df = state.load("alert_incidents", state.snapshot_id(), None, state.settings().today())
    return alerts.open_incident_days(df, metrics, f.provinces[0] if len(f.provinces) == 1 else None)
