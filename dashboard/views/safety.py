"""Safety: reports and blocks by users, and enforcement by the platform."""

import polars as pl
import streamlit as st

from core import labels
from core.labels import _
from dashboard import charts, state, widgets
from dashboard import format as fmt
from dashboard.widgets import alert_days, compared, download, glossary_link, kpi
from queries.privacy import suppress

s = state.settings()
f = state.filters()
cmp = state.comparison(f)
snap = state.snapshot_id()

st.title(_("Is it safe?"))
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
        _("Reports"),
        now["count_reports"],
        change("count_reports"),
        _("Reports by users of videos, comments, accounts or lives."),
        good=False,
    )
with cols[1]:
    kpi(
        _("Blocks"),
        now["count_blocks"],
        change("count_blocks"),
        _("Accounts blocked by users ({n} unblocked).").format(n=fmt.count(now["count_unblocks"])),
        good=False,
    )
with cols[2]:
    kpi(
        _("Comment filters switched on"),
        now["count_filters_on"],
        change("count_filters_on"),
        _("Users who turned comment filters on ({n} turned them off).").format(n=fmt.count(now["count_filters_off"])),
        good=False,
    )
with cols[3]:
    kpi(
        _("Removals"),
        now["count_removals"],
        change("count_removals"),
        _("Videos, comments or lives removed for breaking the Community Guidelines."),
        good=False,
    )
cols = st.columns(3)
with cols[0]:
    st.metric(
        _("Proactive rate"),
        fmt.pct(now["count_proactive"], now["count_removals"]),
        border=True,
        help=_("Removals found by the platform before any report ÷ all removals."),
    )
with cols[1]:
    st.metric(
        _("Zero-view removal rate"),
        fmt.pct(now["count_zero_view"], now["count_known_views"]),
        border=True,
        help=_("Removals with no views at the time ÷ removals whose view count is known."),
    )
with cols[2]:
    st.metric(
        _("Restore rate"),
        fmt.pct(now["count_restores"], now["count_removals"]),
        border=True,
        help=_("Removals reversed (restored) ÷ removals."),
    )
compared(cmp)

daily = state.load("safety_daily", snap, f)
if daily["count_events"].sum() == 0:
    st.info(_("No safety events in this period for these filters. Widen the dates or clear a filter."))
    st.stop()
actions = labels.labels("action")
widgets.altair_chart(
    charts.daily_lines(
        daily,
        "action",
        _("Safety actions per day"),
        _("Actions per day"),
        labels=actions,
        colors={
            "report": "#7A5C99",
            "block": "#F2A541",
            "unblock": "#E4572E",
            "comment_filter_on": "#4C78A8",
            "comment_filter_off": "#A0A0A0",
            "removal": "#5C946E",
            "restore": "#1F7A6B",
        },
        events=charts.campaign_days(s.launch, s.end, s.campaign.events, _("Launch"), _("Campaign end"))
        + alert_days(
            {"reports", "removals", "reports_self_harm", "reports_suicide", "removals_self_harm", "removals_suicide"}, f
        ),
        today=s.today(),
        day_title=labels.day_title(),
        so_far=_("so far"),
        min_cell=s.privacy.min_cell,
    ),
    width="stretch",
)
by_day = daily.pivot(on="action", index="day", values="count_events")
by_day = by_day.select("day", *[a for a in actions if a in by_day.columns])
download(
    by_day.rename({"day": _("Day"), **{a: w for a, w in actions.items() if a in by_day.columns}}), "safety_daily", f
)

n = s.privacy.min_cell
WHY = {f"<{n}": _("Fewer than {n}: not shown, so that no one can be singled out").format(n=n)}


def small_hidden(part: pl.DataFrame) -> pl.DataFrame:
    """A count below min_cell leaves the server as its text (`<10`) only, as in the table:
    the chart draws a marked placeholder and its data holds no number."""
    small = (pl.col("count_events") > 0) & (pl.col("count_events") < n)
    return part.with_columns(
        count_text=pl.when(small).then(pl.lit(f"<{n}")),
        count_events=pl.when(small).then(None).otherwise(pl.col("count_events")),
    )


by_policy = state.load("safety_by_policy", snap, f)
st.subheader(_("Reports and removals by policy"))
left, right = st.columns(2)
policies = labels.labels("policy")
by_policy = by_policy.with_columns(
    policy_name=pl.col("policy").replace_strict(policies, default=pl.col("policy")),
    action_name=pl.col("action").replace_strict(actions, default=pl.col("action")),
    target_name=pl.col("target_type").replace_strict(labels.labels("target_type"), default=pl.col("target_type")),
)
for col, action, title, none in [
    (left, "report", _("Reports by policy"), _("No reports in this period.")),
    (right, "removal", _("Removals by policy"), _("No removals in this period.")),
]:
    part = by_policy.filter(pl.col("action") == action).group_by("policy_name").agg(pl.col("count_events").sum())
    with col:
        if part.is_empty():
            st.info(none)
        else:
            widgets.altair_chart(
                charts.bars(
                    small_hidden(part),
                    "policy_name",
                    "count_events",
                    title,
                    actions[action],
                    color="#7A5C99" if action == "report" else "#5C946E",
                    text="count_text",
                    why=WHY,
                    label_title=_("Policy"),
                ),
                width="stretch",
            )
count = _("Count")
table = by_policy.select(
    pl.col("action_name").alias(_("Action")),
    pl.col("policy_name").alias(_("Policy")),
    pl.col("target_name").alias(_("Target")),
    pl.col("count_events").alias(count),
)
# only text reaches the browser: a count below min_cell is never sent as a number
st.dataframe(suppress(table, [count], s.privacy.min_cell, thousands=True), hide_index=True)
download(table, "safety_by_policy", f)
