"""Alerts: the open incidents found at each refresh, and those resolved in the last week,
each with a link to the view that shows it (queries/alerts.py)."""

import datetime as dt

import polars as pl
import streamlit as st

from core import labels
from core.labels import N_, _
from dashboard import state
from dashboard.widgets import glossary_link
from queries import alerts

s = state.settings()
snap = state.snapshot_id()
DIRECTIONS = {"rise": N_("Rise"), "drop": N_("Drop")}

st.title(_("Alerts"))
st.caption(
    _(
        "Unusual counts found at each refresh: a day against the same weekday over the previous four weeks "
        "(a rise), or seven days against the same seven days of the weeks before (a drop)."
    )
)
glossary_link()

df = state.load("alert_incidents", snap, None, s.today() - dt.timedelta(days=7))
partners = {p.id: p.name for p in s.partners}


def count(n: float) -> str:
    """Text, never a number below privacy.min_cell (as every table of the policy pages)."""
    if 0 < n < s.privacy.min_cell:
        return f"<{s.privacy.min_cell}"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def table(incidents: list[alerts.Incident]) -> pl.DataFrame:
    """What, where, when and how far off first (a phone shows the first columns), then the rest."""
    columns = {
        _("Metric"): [alerts.metric_words(i.metric) for i in incidents],
        _("Place"): [alerts.place_words(i.place) for i in incidents],
        _("Day"): [labels.campaign_date(i.peak_day) for i in incidents],
        _("Observed"): [count(i.observed) for i in incidents],
        _("Expected"): [count(round(i.expected, 1)) for i in incidents],
        _("View"): [alerts.dashboard_link(s, i).removeprefix(s.dashboard.url) for i in incidents],
        _("Direction"): [_(DIRECTIONS[i.direction]) for i in incidents],
        _("Partner"): [partners.get(i.partner_id, i.partner_id) if i.partner_id else "–" for i in incidents],
        _("Unusual since"): [labels.campaign_date(i.first_day) for i in incidents],
    }
    return pl.DataFrame(columns, schema={k: pl.String for k in columns})


def show(incidents: list[alerts.Incident]) -> None:
    st.dataframe(
        table(incidents),
        hide_index=True,
        width="stretch",
        column_config={_("View"): st.column_config.LinkColumn(display_text=_("Open the view"))},
    )


everything = alerts.incidents_of(df)
open_ = [i for i in everything if i.status == "open"]
recent = [i for i in everything if i.status == "resolved"]
st.subheader(_("Open"))
if open_:
    show(open_)
else:
    st.success(_("No open alerts: every checked count is within its usual range."))
st.subheader(_("Resolved in the last 7 days"))
if recent:
    show(recent)
else:
    st.info(_("No alert was resolved in the last 7 days."))
