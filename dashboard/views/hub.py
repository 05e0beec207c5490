"""Digital Wellness Hub: are people using it?"""

import polars as pl
import streamlit as st

from core import labels
from core.labels import _
from dashboard import charts, state, widgets
from dashboard.widgets import alert_days, compared, download, glossary_link, kpi

s = state.settings()
f = state.filters()
cmp = state.comparison(f)
snap = state.snapshot_id()

st.title(_("Digital Wellness Hub"))
st.caption(state.describe(f))
glossary_link()

now = state.load("hub_totals", snap, f)
current = state.load("hub_totals", snap, cmp.current) if cmp.baseline else None
before = state.load("hub_totals", snap, cmp.baseline) if cmp.baseline else None


def change(key: str) -> str | None:
    return cmp.change(current[key], before[key]) if before else None


cols = st.columns(4)
with cols[0]:
    kpi(_("Hub visitors"), now["count_hub_visitors"], change("count_hub_visitors"), _("People who opened the Hub."))
with cols[1]:
    kpi(
        _("Well-being guide views"),
        now["count_guide_views"],
        change("count_guide_views"),
        _("Times a well-being guide was opened."),
    )
with cols[2]:
    kpi(
        _("Tip-video views"),
        now["count_tip_video_views"],
        change("count_tip_video_views"),
        _("Views of tip videos made with partner organisations."),
    )
with cols[3]:
    kpi(
        _("Screen-time limits set"),
        now["count_screen_time_limits"],
        change("count_screen_time_limits"),
        _("Times a user set a daily screen-time limit."),
    )
watched_hours = now["sum_tip_video_watch_time_ms"] / 3_600_000
if watched_hours:
    st.caption(
        _("Tip videos were watched for {hours} hours in all in this period (views that report a watch time).").format(
            hours=f"{watched_hours:,.1f}"
        )
    )
compared(cmp)

daily = state.load("hub_daily", snap, f)
if daily["count_events"].sum() == 0:
    st.info(_("No Hub activity in this period for these filters. Widen the dates or clear a filter."))
else:
    words = {
        t: labels.label("event_type", t) for t in ("hub_visit", "guide_view", "tip_video_view", "screen_time_limit_set")
    }
    widgets.altair_chart(
        charts.daily_lines(
            daily,
            "event_type",
            _("Hub use per day"),
            _("Hub actions per day"),
            labels=words,
            colors=charts.HUB_COLORS,
            events=charts.campaign_days(s.launch, s.end, s.campaign.events, _("Launch"), _("Campaign end"))
            + alert_days({"hub_visitors"}, f),
            today=s.today(),
            day_title=labels.day_title(),
            so_far=_("so far"),
            min_cell=s.privacy.min_cell,
        ),
        width="stretch",
    )
    by_day = daily.pivot(on="event_type", index="day", values="count_events")
    by_day = by_day.select("day", *[t for t in words if t in by_day.columns])
    download(
        by_day.rename({"day": _("Day"), **{t: w for t, w in words.items() if t in by_day.columns}}), "hub_daily", f
    )

tips = state.load("tip_videos_by_partner", snap, f)
n = s.privacy.min_cell
small = (pl.col("count_tip_video_views") > 0) & (pl.col("count_tip_video_views") < n)
st.subheader(_("Tip videos by partner organisation"))
if tips.is_empty():
    st.info(_("No tip-video views in this period."))
else:
    widgets.altair_chart(
        charts.bars(
            # a count below min_cell leaves the server as its text only: a marked placeholder, no number
            tips.with_columns(
                text=pl.when(small).then(pl.lit(f"<{n}")),
                count_tip_video_views=pl.when(small).then(None).otherwise(pl.col("count_tip_video_views")),
            ),
            "partner",
            "count_tip_video_views",
            _("Tip-video views by partner"),
            _("Views"),
            color=charts.HUB_COLORS["tip_video_view"],
            text="text",
            why={f"<{n}": _("Fewer than {n}: not shown, so that no one can be singled out").format(n=n)},
            label_title=_("Partner"),
        ),
        width="stretch",
    )
    shown = tips.select(
        pl.col("partner").alias(_("Partner")), pl.col("count_tip_video_views").alias(_("Tip-video views"))
    )
    download(shown, "tip_videos_by_partner", f)
