"""Safety: reports and blocks by users, and enforcement by the platform."""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard import format as fmt
from dashboard.widgets import download, glossary_link, kpi

s = state.settings()
f = state.filters()
snap = state.snapshot_id()

st.title("Is it safe?")
st.caption(state.describe(f))
glossary_link()

now = state.load("safety_totals", snap, f)
before = state.load("safety_totals", snap, f.previous())
cols = st.columns(4)
with cols[0]:
    kpi(
        "Reports",
        now["count_reports"],
        before["count_reports"],
        "Reports by users of videos, comments, accounts or lives.",
    )
with cols[1]:
    kpi(
        "Blocks",
        now["count_blocks"],
        before["count_blocks"],
        f"Accounts blocked by users ({now['count_unblocks']:,} unblocked).",
    )
with cols[2]:
    kpi(
        "Comment filters switched on",
        now["count_filters_on"],
        before["count_filters_on"],
        f"Users who turned comment filters on ({now['count_filters_off']:,} turned them off).",
    )
with cols[3]:
    kpi(
        "Removals",
        now["count_removals"],
        before["count_removals"],
        "Videos, comments or lives removed for breaking the Community Guidelines.",
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

daily = state.load("safety_daily", snap, f)
if daily["count_events"].sum() == 0:
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
st.altair_chart(
    charts.daily_lines(
        daily,
        "action",
        "Safety actions per day",
        "Actions per day",
        labels=labels,
        colors={
            "report": "#7A5C99",
            "block": "#F2A541",
            "unblock": "#E4572E",
            "comment_filter_on": "#4C78A8",
            "comment_filter_off": "#A0A0A0",
            "removal": "#5C946E",
            "restore": "#1F7A6B",
        },
        events=charts.campaign_days(s.launch, s.end, s.campaign.events, "Launch", "Campaign end"),
        today=s.today(),
        day_title="Campaign day",
        so_far="so far",
    ),
    width="stretch",
)
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
                    part,
                    "policy",
                    "count_events",
                    title,
                    "Reports" if action == "report" else "Removals",
                    color="#7A5C99" if action == "report" else "#5C946E",
                ),
                width="stretch",
            )
table = by_policy.select(
    pl.col("action").alias("Action"),
    pl.col("policy").alias("Policy"),
    pl.col("target_type").alias("Target"),
    pl.col("count_events").alias("Count"),
)
st.dataframe(table, hide_index=True, column_config={"Count": st.column_config.NumberColumn(format="localized")})
download(table, "safety_by_policy", f)
