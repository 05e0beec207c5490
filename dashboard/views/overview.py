"""Overview: is #MentalWell-Being landing?"""

import polars as pl
import streamlit as st

from core import labels
from core.labels import _
from dashboard import charts, state, widgets
from dashboard import format as fmt
from dashboard.widgets import alert_days, compared, download, glossary_link, kpi

s = state.settings()
f = state.filters()
cmp = state.comparison(f)
snap = state.snapshot_id()

st.title(_("Is the campaign landing?"))
st.caption(f"{s.name} · {state.describe(f)}")
glossary_link()

now = state.load("kpis", snap, f)
current = state.load("kpis", snap, cmp.current) if cmp.baseline else None
before = state.load("kpis", snap, cmp.baseline) if cmp.baseline else None


def change(key: str) -> str | None:
    return cmp.change(current[key], before[key]) if before else None


def rate(k: dict | None) -> float | None:
    return k["count_engaged_users"] / k["count_unique_reach"] if k and k["count_unique_reach"] else None


rate_now, rate_before = rate(current), rate(before)

row1 = st.columns(4)
with row1[0]:
    kpi(
        _("Unique reach"),
        now["count_unique_reach"],
        change("count_unique_reach"),
        _("People who viewed at least one campaign video (a video with a tracked hashtag)."),
    )
with row1[1]:
    kpi(_("Views"), now["count_views"], change("count_views"), _("Views of campaign videos."))
with row1[2]:
    st.metric(
        _("Engagement rate"),
        fmt.pct(now["count_engaged_users"], now["count_unique_reach"]),
        delta=None
        if rate_now is None or rate_before is None
        else _("{change} pts").format(change=f"{100 * (rate_now - rate_before):+.1f}"),
        help=_("By reach: people who liked, commented, shared or favorited a campaign video ÷ unique reach."),
        border=True,
    )
with row1[3]:
    kpi(
        _("Campaign posts"),
        now["count_campaign_posts"],
        change("count_campaign_posts"),
        _("Videos posted with a tracked hashtag, by {n} distinct creators.").format(n=fmt.count(now["count_creators"])),
    )
row2 = st.columns(4)
with row2[0]:
    kpi(
        _("Distinct creators"),
        now["count_creators"],
        change("count_creators"),
        _("Creators who posted a campaign video."),
    )
with row2[1]:
    kpi(
        _("Hub visitors"),
        now["count_hub_visitors"],
        change("count_hub_visitors"),
        _("People who opened the Digital Wellness Hub."),
    )
with row2[2]:
    kpi(
        _("Helpline taps"),
        now["count_helpline_clicks"],
        change("count_helpline_clicks"),
        _("Times a user tapped a partner's helpline card."),
    )
with row2[3]:
    kpi(
        _("Reports"),
        now["count_reports"],
        change("count_reports"),
        _(
            "Reports of videos, comments, accounts or lives. More reports is neither good nor bad news in itself, "
            "so its change is not coloured."
        ),
        good=False,
    )
compared(cmp)

trend = state.load("daily_trend", snap, f)
st.subheader(_("Day by day"))
if trend["count_events"].sum() == 0:
    st.info(_("No events in this period for these filters. Widen the dates or clear a filter."))
else:
    OVERVIEW_ALERTS = {"views": {"campaign_views"}, "helpline_clicks": set(), "reports": {"reports"}}
    marked = charts.campaign_days(s.launch, s.end, s.campaign.events, _("Launch"), _("Campaign end"))
    left, right = st.columns(2)
    for i, (metric, unit) in enumerate(
        [
            ("views", _("Views per day")),
            ("hub_visits", _("Visits per day")),
            ("helpline_clicks", _("Taps per day")),
            ("reports", _("Reports per day")),
        ]
    ):
        with left if i % 2 == 0 else right:
            widgets.altair_chart(
                charts.daily_lines(
                    trend.filter(pl.col("metric") == metric),
                    "metric",
                    labels.label("metric", metric),
                    unit,
                    labels=labels.labels("metric"),
                    colors=[charts.STREAM_COLORS[metric]],
                    events=marked + alert_days(OVERVIEW_ALERTS.get(metric, set()), f),
                    today=s.today(),
                    day_title=labels.day_title(),
                    so_far=_("so far"),
                    min_cell=s.privacy.min_cell,
                ),
                width="stretch",
            )
    words = labels.labels("metric")
    by_day = trend.pivot(on="metric", index="day", values="count_events").select("day", *words)
    download(by_day.rename({"day": _("Day"), **words}), "daily_trend", f)

st.subheader(_("Weekly rhythm"))
rhythm = state.load("weekly_rhythm", snap, f)
if rhythm.is_empty():
    st.info(_("No engagement in this period."))
else:
    widgets.altair_chart(
        charts.weekly_rhythm(
            rhythm,
            _("Engagement by weekday and hour"),
            labels.hour_title(),
            _("Events"),
            [labels.label("weekday", i) for i in range(1, 8)],
        ),
        width="stretch",
    )
    st.caption(_("All provinces, ages and languages: the hourly rhythm is kept without audience detail."))
    weekdays = labels.labels("weekday")
    download(
        rhythm.select(
            pl.col("day_of_week").replace_strict(weekdays, return_dtype=pl.String).alias(_("Weekday")),
            pl.format("{}:00", pl.col("hour").cast(pl.String).str.zfill(2)).alias(_("Hour")),
            pl.col("count_events").alias(_("Engagement events")),
        ),
        "weekly_rhythm",
        f,
    )
