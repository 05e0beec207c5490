"""Safety: reports and blocks by users, and enforcement by the platform."""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard import format as fmt
from dashboard.widgets import compared, download, glossary_link, kpi
from queries.privacy import suppress

s = state.settings()
f = state.filters()
cmp = state.comparison(f)
snap = state.snapshot_id()

st.title("Is it safe?")
st.caption(state.describe(f))
glossary_link()

now = state.load("safety_totals", snap, f)
current = state.load("safety_totals", snap, cmp.current) if cmp.baseline else None
before = state.load("safety_totals", snap, cmp.baseline) if cmp.baseline else None


def change(key: str) -> str | None:
    return cmp.change(current[key], before[key]) if before else None


cols = st.columns(4)
with cols[0]:
    kpi(
        "Reports",
        now["count_reports"],
        change("count_reports"),
        "Reports by users of videos, comments, accounts or lives.",
        good=False,
    )
with cols[1]:
    kpi(
        "Blocks",
        now["count_blocks"],
        change("count_blocks"),
        f"Accounts blocked by users ({now['count_unblocks']:,} unblocked).",
        good=False,
    )
with cols[2]:
    kpi(
        "Comment filters switched on",
        now["count_filters_on"],
        change("count_filters_on"),
        f"Users who turned comment filters on ({now['count_filters_off']:,} turned them off).",
        good=False,
    )
with cols[3]:
    kpi(
        "Removals",
        now["count_removals"],
        change("count_removals"),
        "Videos, comments or lives removed for breaking the Community Guidelines.",
        good=False,
    )
cols = st.columns(3)
with cols[0]:
    st.metric(
        "Proactive rate",
        fmt.pct(now["count_proactive"], now["count_removals"]),
        border=True,
        help="Removals found by the platform before any report ÷ all removals.",
    )
with cols[1]:
    st.metric(
        "Zero-view removal rate",
        fmt.pct(now["count_zero_view"], now["count_known_views"]),
        border=True,
        help="Removals with no views at the time ÷ removals whose view count is known.",
    )
with cols[2]:
    st.metric(
        "Restore rate",
        fmt.pct(now["count_restores"], now["count_removals"]),
        border=True,
        help="Removals reversed (restored) ÷ removals.",
    )
compared(cmp)

daily = state.load("safety_daily", snap, f)
if daily.is_empty():
    st.info("No safety events in this period for these filters. Widen the dates or clear a filter.")
    st.stop()
labels = {
    "report": "Reports",
    "block": "Blocks",
    "unblock": "Unblocks",
    "comment_filter_on": "Filters on",
    "comment_filter_off": "Filters off",
    "removal": "Removals",
    "restore": "Restores",
}
st.altair_chart(charts.daily_stacked(daily, "action", "Safety actions per day", labels))
download(daily.pivot(on="action", index="day", values="count_events"), "safety_daily", f)

by_policy = state.load("safety_by_policy", snap, f)
st.subheader("Reports and removals by policy")
left, right = st.columns(2)
for col, action, title in [(left, "report", "Reports by policy"), (right, "removal", "Removals by policy")]:
    part = by_policy.filter(pl.col("action") == action).group_by("policy").agg(pl.col("count_events").sum())
    with col:
        if part.is_empty():
            st.info(f"No {action}s in this period.")
        else:
            st.altair_chart(
                charts.bars(
                    part, "policy", "count_events", title, "Count", color="#7A5C99" if action == "report" else "#5C946E"
                )
            )
table = by_policy.select(
    pl.col("action").alias("Action"),
    pl.col("policy").alias("Policy"),
    pl.col("target_type").alias("Target"),
    pl.col("count_events").alias("Count"),
)
# only text reaches the browser: a count below min_cell is never sent as a number
st.dataframe(suppress(table, ["Count"], s.privacy.min_cell, thousands=True), hide_index=True)
download(table, "safety_by_policy", f)
