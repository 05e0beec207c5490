"""Overview: is #MentalWell-Being landing?"""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard import format as fmt
from dashboard.widgets import download, glossary_link, kpi

s = state.settings()
f = state.filters()
snap = state.snapshot_id()

st.title("Is the campaign landing?")
st.caption(f"{s.name} · {state.describe(f)} · compared with the {f.days} days before")
glossary_link()

now = state.load("kpis", snap, f)
before = state.load("kpis", snap, f.previous())
rate_now = now["count_engaged_users"] / now["count_unique_reach"] if now["count_unique_reach"] else None
rate_before = before["count_engaged_users"] / before["count_unique_reach"] if before["count_unique_reach"] else None

row1 = st.columns(4)
with row1[0]:
    kpi(
        "Unique reach",
        now["count_unique_reach"],
        before["count_unique_reach"],
        "People who viewed at least one campaign video (a video with a tracked hashtag).",
    )
with row1[1]:
    kpi("Views", now["count_views"], before["count_views"], "Views of campaign videos.")
with row1[2]:
    st.metric(
        "Engagement rate",
        fmt.pct(now["count_engaged_users"], now["count_unique_reach"]),
        delta=None if rate_now is None or rate_before is None else f"{100 * (rate_now - rate_before):+.1f} pts",
        help="By reach: people who liked, commented, shared or favorited a campaign video ÷ unique reach.",
        border=True,
    )
with row1[3]:
    kpi(
        "Campaign posts",
        now["count_campaign_posts"],
        before["count_campaign_posts"],
        f"Videos posted with a tracked hashtag, by {now['count_creators']:,} distinct creators.",
    )
row2 = st.columns(4)
with row2[0]:
    kpi("Distinct creators", now["count_creators"], before["count_creators"], "Creators who posted a campaign video.")
with row2[1]:
    kpi(
        "Hub visitors",
        now["count_hub_visitors"],
        before["count_hub_visitors"],
        "People who opened the Digital Wellness Hub.",
    )
with row2[2]:
    kpi(
        "Helpline taps",
        now["count_helpline_clicks"],
        before["count_helpline_clicks"],
        "Times a user tapped a partner's helpline card.",
    )
with row2[3]:
    kpi("Reports", now["count_reports"], before["count_reports"], "Reports of videos, comments, accounts or lives.")

trend = state.load("daily_trend", snap, f)
st.subheader("Day by day")
if trend["count_events"].sum() == 0:
    st.info("No events in this period for these filters. Widen the dates or clear a filter.")
else:
    marked = charts.campaign_days(s.launch, s.end, s.campaign.events, "Launch", "Campaign end")
    left, right = st.columns(2)
    for i, (metric, title, unit) in enumerate(
        [
            ("views", "Views of campaign videos", "Views per day"),
            ("hub_visits", "Wellness Hub visits", "Visits per day"),
            ("helpline_clicks", "Helpline card taps", "Taps per day"),
            ("reports", "Reports", "Reports per day"),
        ]
    ):
        with left if i % 2 == 0 else right:
            st.altair_chart(
                charts.daily_lines(
                    trend.filter(pl.col("metric") == metric),
                    "metric",
                    title,
                    unit,
                    colors=[charts.STREAM_COLORS[metric]],
                    events=marked,
                    today=s.today(),
                    day_title="Campaign day",
                    so_far="so far",
                ),
                width="stretch",
            )
    download(trend.pivot(on="metric", index="day", values="count_events"), "daily_trend", f)

st.subheader("Weekly rhythm")
rhythm = state.load("weekly_rhythm", snap, f)
if rhythm.is_empty():
    st.info("No engagement in this period.")
else:
    st.altair_chart(
        charts.weekly_rhythm(
            rhythm,
            "When people engage: events by weekday and hour",
            "Hour of day",
            "Events",
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        ),
        width="stretch",
    )
    st.caption("All provinces, ages and languages: the hourly rhythm is kept without audience detail.")
    download(rhythm, "weekly_rhythm", f)
