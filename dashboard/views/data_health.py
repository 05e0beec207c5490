"""Data health: what is published, how fresh, and what was rejected."""

import datetime as dt

import polars as pl
import streamlit as st

from core import labels
from core.labels import _
from dashboard import format as fmt
from dashboard import layout, state, widgets
from queries.status import snapshot_status

s = state.settings()
snap = state.snapshot_id()
status = snapshot_status(state.data_dir(), s)


def when(iso: str | None) -> str:
    return labels.campaign_time(dt.datetime.fromisoformat(iso), s.tz) if iso else _("never")


def day(iso: str | None) -> str:
    return labels.campaign_date(dt.date.fromisoformat(iso)) if iso else "–"


st.title(_("Data health"))
st.caption(_("Last refresh {when}").format(when=when(status["last_refresh"])))
cols = st.columns(3)
for col, (stream, v) in zip(cols, status["streams"].items(), strict=True):
    with col:
        st.metric(
            _("{stream} rows").format(stream=labels.label("stream", stream)),
            fmt.count(v["rows"]),
            border=True,
            help=_("{first} to {last}; {n} rows quarantined.").format(
                first=day(v["first_day"]), last=day(v["last_day"]), n=fmt.count(v["quarantined"])
            ),
        )

STREAM, FIELD, REASON, FILE, ROWS, FIRST_LINE = (
    _("Stream"),
    _("Field"),
    _("Reason"),
    _("File"),
    _("Rows"),
    _("First line"),
)


def reason_words(code: str | None, stored: str, event_type: str | None, action: str | None) -> str:
    """The reason by its code in the reader's language; a row stored before codes: its English text.
    `{earliest}` reads validation.earliest as configured now (the stored English text keeps the
    day in force when the row was rejected)."""
    words = labels.rejection_reason(
        code,
        earliest=labels.digits(s.validation.earliest.isoformat()),
        event_type=event_type or "",
        action=action or "",
    )
    return words if words is not None else stored


st.subheader(_("Rejected rows (quarantine)"))
q = state.load("quarantine_by_reason", snap, None)
if q.is_empty():
    st.success(_("No row has been rejected."))
else:
    q = q.select(
        pl.col("stream").replace_strict(labels.labels("stream"), default=pl.col("stream")).alias(STREAM),
        pl.col("field").alias(FIELD),
        pl.Series(
            REASON, [reason_words(*row) for row in q.select("code", "reason", "event_type", "action").iter_rows()]
        ),
        pl.col("file_path").alias(FILE),
        pl.col("count_rows").alias(ROWS),
        pl.col("first_line").alias(FIRST_LINE),
    )
    # The count first: on a phone the table shows its first columns, and the reason's words are
    # long (the stream is last: the field mostly tells it). Most rows first; equal counts by
    # stream, field and reason as shown (a total order: group_by's own order changes every run).
    by_reason = (
        q.group_by(STREAM, FIELD, REASON)
        .agg(pl.col(ROWS).sum())
        .sort([ROWS, STREAM, FIELD, REASON], descending=[True, False, False, False])
        .select(ROWS, FIELD, REASON, STREAM)
    )
    with layout.wide_only("quarantine_by_reason"):
        st.dataframe(
            by_reason, hide_index=True, column_config={ROWS: st.column_config.NumberColumn(format="localized")}
        )
    with layout.phone_only("quarantine_by_reason"):  # the table's columns are wider than a phone
        layout.stacked(by_reason.with_columns(pl.Series(ROWS, [fmt.count(n) for n in by_reason[ROWS]])), long=REASON)
    with st.expander(_("By file")):
        st.dataframe(q, hide_index=True)
    widgets.download(q, "quarantine_by_reason", None)

st.subheader(_("Unreadable files and unknown columns"))
u = state.load("unreadable_files", snap, None)
if u.is_empty():
    st.success(_("Every file could be read and named only known columns."))
else:
    st.dataframe(
        pl.DataFrame(
            {
                STREAM: [labels.label("stream", x) for x in u["stream"]],
                FILE: u["path"],
                _("Problem"): [
                    r or labels.label("ledger_status", st_)
                    for r, st_ in zip(u["reason"].to_list(), u["status"].to_list(), strict=True)
                ],
                _("Unknown columns"): [", ".join(c) for c in u["unknown_columns"].fill_null([]).to_list()],
                _("Read at"): [labels.campaign_time(t, s.tz) for t in u["processed_at"].to_list()],
            }
        ),
        hide_index=True,
    )
