"""Digital Wellness Hub: are people using it?"""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard.widgets import compared, download, glossary_link, kpi

s = state.settings()
f = state.filters()
cmp = state.comparison(f)
snap = state.snapshot_id()

st.title("Digital Wellness Hub")
st.caption(state.describe(f))
glossary_link()

now = state.load("hub_totals", snap, f)
current = state.load("hub_totals", snap, cmp.current) if cmp.baseline else None
before = state.load("hub_totals", snap, cmp.baseline) if cmp.baseline else None


def change(key: str) -> str | None:
    return cmp.change(current[key], before[key]) if before else None


cols = st.columns(4)
with cols[0]:
    kpi("Hub visitors", now["count_hub_visitors"], change("count_hub_visitors"), "People who opened the Hub.")
with cols[1]:
    kpi(
        "Well-being guide views",
        now["count_guide_views"],
        change("count_guide_views"),
        "Times a well-being guide was opened.",
    )
with cols[2]:
    kpi(
        "Tip-video views",
        now["count_tip_video_views"],
        change("count_tip_video_views"),
        "Views of tip videos made with partner organisations.",
    )
with cols[3]:
    kpi(
        "Screen-time limits set",
        now["count_screen_time_limits"],
        change("count_screen_time_limits"),
        "Times a user set a daily screen-time limit.",
    )
compared(cmp)

daily = state.load("hub_daily", snap, f)
if daily.is_empty():
    st.info("No Hub activity in this period for these filters. Widen the dates or clear a filter.")
else:
    labels = {
        "hub_visit": "Hub visits",
        "guide_view": "Guide views",
        "tip_video_view": "Tip-video views",
        "screen_time_limit_set": "Screen-time limits set",
    }
    st.altair_chart(
        charts.daily_stacked(
            daily, "event_type", "Hub use per day", labels, ["#4C78A8", "#F2A541", "#1F7A6B", "#7A5C99"]
        )
    )
    download(daily.pivot(on="event_type", index="day", values="count_events"), "hub_daily", f)

tips = state.load("tip_videos_by_partner", snap, f)
st.subheader("Tip videos by partner organisation")
if tips.is_empty():
    st.info("No tip-video views in this period.")
else:
    st.altair_chart(
        charts.bars(tips, "partner", "count_tip_video_views", "Tip-video views by partner", "Views", color="#1F7A6B")
    )
    shown = tips.select(pl.col("partner").alias("Partner"), pl.col("count_tip_video_views").alias("Tip-video views"))
    download(shown, "tip_videos_by_partner", f)
