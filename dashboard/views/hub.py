"""Digital Wellness Hub: are people using it?"""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard.widgets import download, glossary_link, kpi

s = state.settings()
f = state.filters()
snap = state.snapshot_id()

st.title("Digital Wellness Hub")
st.caption(state.describe(f))
glossary_link()

now = state.load("hub_totals", snap, f)
before = state.load("hub_totals", snap, f.previous())
cols = st.columns(4)
with cols[0]:
    kpi("Hub visitors", now["count_hub_visitors"], before["count_hub_visitors"], "People who opened the Hub.")
with cols[1]:
    kpi(
        "Well-being guide views",
        now["count_guide_views"],
        before["count_guide_views"],
        "Times a well-being guide was opened.",
    )
with cols[2]:
    kpi(
        "Tip-video views",
        now["count_tip_video_views"],
        before["count_tip_video_views"],
        "Views of tip videos made with partner organisations.",
    )
with cols[3]:
    kpi(
        "Screen-time limits set",
        now["count_screen_time_limits"],
        before["count_screen_time_limits"],
        "Times a user set a daily screen-time limit.",
    )

daily = state.load("hub_daily", snap, f)
if daily["count_events"].sum() == 0:
    st.info("No Hub activity in this period for these filters. Widen the dates or clear a filter.")
else:
    labels = {
        "hub_visit": "Hub visits",
        "guide_view": "Guide views",
        "tip_video_view": "Tip-video views",
        "screen_time_limit_set": "Screen-time limits set",
    }
    st.altair_chart(
        charts.daily_lines(
            daily,
            "event_type",
            "Hub use per day",
            "Hub actions per day",
            labels=labels,
            colors={
                "hub_visit": "#4C78A8",
                "guide_view": "#F2A541",
                "tip_video_view": "#1F7A6B",
                "screen_time_limit_set": "#7A5C99",
            },
            events=charts.campaign_days(s.launch, s.end, s.campaign.events, "Launch", "Campaign end"),
            today=s.today(),
            day_title="Campaign day",
            so_far="so far",
        ),
        width="stretch",
    )
    download(daily.pivot(on="event_type", index="day", values="count_events"), "hub_daily", f)

tips = state.load("tip_videos_by_partner", snap, f)
st.subheader("Tip videos by partner organisation")
if tips.is_empty():
    st.info("No tip-video views in this period.")
else:
    st.altair_chart(
        charts.bars(tips, "partner", "count_tip_video_views", "Tip-video views by partner", "Views", color="#1F7A6B"),
        width="stretch",
    )
    shown = tips.select(pl.col("partner").alias("Partner"), pl.col("count_tip_video_views").alias("Tip-video views"))
    download(shown, "tip_videos_by_partner", f)
