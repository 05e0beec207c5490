"""Pure functions that return Altair charts: titled in plain words, axes with units,
thousands separators, one colour per stream and partner. Testable without Streamlit."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from queries import labels
from queries.labels import _

STREAM_COLORS = {
    "views": "#1F7A6B",  # engagement
    "hub_visits": "#4C78A8",  # Digital Wellness Hub
    "helpline_clicks": "#E4572E",  # referrals
    "reports": "#7A5C99",  # safety
}
METRIC_TITLES = labels.LABELS["metric"]  # English source words: read them with labels.label("metric", m)
PARTNER_PALETTE = ["#E4572E", "#1F7A6B", "#4C78A8", "#F2A541", "#7A5C99", "#5C946E"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def day_axis() -> alt.Axis:
    """Daily x axis, titled in the current language: 'Day (Cambodia time)'."""
    return alt.Axis(format="%d %b", labelAngle=0, title=labels.day_title())


def _markers(launch: dt.date, end: dt.date | None, start: dt.date, last: dt.date) -> alt.Chart | None:
    rows = [(launch, _("Launch"))] + ([(end, _("Campaign end"))] if end else [])
    rows = [(d, label) for d, label in rows if start <= d <= last]
    if not rows:
        return None
    df = pl.DataFrame({"day": [d for d, _ in rows], "label": [lbl for _, lbl in rows]})
    rule = alt.Chart(df).mark_rule(strokeDash=[4, 3], color="#666").encode(x="day:T")
    text = (
        alt.Chart(df)
        .mark_text(align="left", dx=4, dy=-4, color="#444", baseline="top")
        .encode(x="day:T", y=alt.value(0), text="label:N")
    )
    return rule + text


def daily_metric(df: pl.DataFrame, metric: str, launch: dt.date, end: dt.date | None) -> alt.LayerChart | alt.Chart:
    """One metric per day as a line, with the launch (and end) marked."""
    data = df.filter(pl.col("metric") == metric)
    line = (
        alt.Chart(data, title=labels.label("metric", metric))
        .mark_line(color=STREAM_COLORS[metric], strokeWidth=2)
        .encode(
            x=alt.X("day:T", axis=day_axis()),
            y=alt.Y("count_events:Q", title=_("Events per day"), axis=alt.Axis(format=",d")),
            tooltip=[
                alt.Tooltip("day:T", title=_("Day"), format="%a %d %b %Y"),
                alt.Tooltip("count_events:Q", title=labels.label("metric", metric), format=","),
            ],
        )
        .properties(height=260)
    )
    if data.is_empty():
        return line
    markers = _markers(launch, end, data["day"].min(), data["day"].max())
    return line + markers if markers is not None else line


def weekly_rhythm(df: pl.DataFrame) -> alt.Chart:
    """Day of week × hour heatmap of engagement events (campaign time)."""
    days = [labels.label("weekday_short", i) for i in range(1, 8)]
    data = df.with_columns(weekday=pl.col("day_of_week").replace_strict(range(1, 8), days, return_dtype=pl.String))
    return (
        alt.Chart(data, title=_("Engagement by weekday and hour"))
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title=labels.hour_title()),
            y=alt.Y("weekday:N", sort=days, title=None),
            color=alt.Color(
                "count_events:Q", title=_("Events"), scale=alt.Scale(scheme="greens"), legend=alt.Legend(format=",d")
            ),
            tooltip=[
                alt.Tooltip("weekday:N", title=_("Day")),
                alt.Tooltip("hour:O", title=_("Hour")),
                alt.Tooltip("count_events:Q", title=_("Events"), format=","),
            ],
        )
        .properties(height=220)
    )


def bars(
    df: pl.DataFrame,
    label: str,
    value: str,
    title: str,
    value_title: str,
    color: str = "#1F7A6B",
    percent: bool = False,
) -> alt.Chart:
    """Horizontal bars sorted by value, for segments (provinces, age bands, partners…)."""
    fmt = ".1%" if percent else ",d"
    return (
        alt.Chart(df, title=title)
        .mark_bar(color=color)
        .encode(
            y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=220)),
            x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=fmt)),
            tooltip=[
                alt.Tooltip(f"{label}:N", title=_("Segment")),
                alt.Tooltip(f"{value}:Q", title=value_title, format=".1%" if percent else ","),
            ],
        )
        .properties(height=max(120, 26 * df.height))
    )


def daily_stacked(
    df: pl.DataFrame, category: str, title: str, labels: dict[str, str], colors: list[str] | None = None
) -> alt.Chart:
    """Daily counts per category as lines (one colour each)."""
    data = df.with_columns(pl.col(category).replace(labels).alias("series"))
    scale = alt.Scale(range=colors) if colors else alt.Undefined
    return (
        alt.Chart(data, title=title)
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("day:T", axis=day_axis()),
            y=alt.Y("count_events:Q", title=_("Events per day"), axis=alt.Axis(format=",d")),
            color=alt.Color("series:N", title=None, scale=scale, legend=alt.Legend(orient="right")),
            tooltip=[
                alt.Tooltip("day:T", title=_("Day"), format="%a %d %b %Y"),
                alt.Tooltip("series:N", title=_("What")),
                alt.Tooltip("count_events:Q", title=_("Events"), format=","),
            ],
        )
        .properties(height=340)
    )


def funnel(df: pl.DataFrame, title: str) -> alt.FacetChart:
    """Shown / tapped / contacted per segment, one small bar chart per segment (log scale so
    contacts stay visible next to cards shown). Hidden small counts are left out."""
    long = df.unpivot(index="segment", on=["shown", "tapped", "contacted"], variable_name="stage", value_name="count")
    words = {"shown": labels.label("stage", "shown"), "tapped": labels.label("stage", "clicked")}
    words["contacted"] = labels.label("stage", "contacted")
    long = long.with_columns(pl.col("stage").replace_strict(words))
    stages = list(words.values())
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=stages, title=None),
            x=alt.X(
                "count:Q",
                title=_("Helpline events (log scale)"),
                scale=alt.Scale(type="symlog"),
                axis=alt.Axis(format=",d", tickCount=5),
            ),
            color=alt.Color(
                "stage:N",
                sort=stages,
                title=None,
                legend=None,
                scale=alt.Scale(domain=stages, range=["#F4B393", "#E4572E", "#8C2F1B"]),
            ),
            tooltip=[
                alt.Tooltip("segment:N", title=_("Segment")),
                alt.Tooltip("stage:N", title=_("Stage")),
                alt.Tooltip("count:Q", title=_("Count"), format=","),
            ],
        )
        .properties(height=66, width=520)
        .facet(
            row=alt.Row(
                "segment:N",
                sort=df["segment"].to_list(),
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            )
        )
        .properties(title=title)
    )


PARTNER_MEASURE_COLORS = {"Shown": "#F4B393", "Tapped": "#E4572E", "Contacted": "#8C2F1B", "Tip video views": "#1F7A6B"}


def weekly_partner_totals(totals: pl.DataFrame, title: str, measures: list[str]) -> alt.LayerChart:
    """Released weekly totals of a partner, grouped bars per week; every bar is labelled with
    what the partner may see (the number, `<N` or `hidden`), and a hidden one has no bar."""
    df = totals.filter(pl.col("measure").is_in(measures)).with_columns(
        week=pl.col("week_start").dt.strftime("%d %b"),
        bar=pl.col("value").fill_null(0),
    )
    base = alt.Chart(df).encode(
        x=alt.X("week:N", sort=None, title=_("Week starting (Monday, campaign time)"), axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("measure:N", sort=measures),
        tooltip=[
            alt.Tooltip("week:N", title=_("Week starting")),
            alt.Tooltip("measure:N", title=_("Measure")),
            alt.Tooltip("text:N", title=_("Count")),
        ],
    )
    bars = base.mark_bar().encode(
        y=alt.Y("bar:Q", title=_("Events in the week"), axis=alt.Axis(format=",d")),
        color=alt.Color(
            "measure:N",
            sort=measures,
            title=None,
            scale=alt.Scale(domain=measures, range=[PARTNER_MEASURE_COLORS[m] for m in measures]),
            legend=alt.Legend(orient="top"),
        ),
    )
    labels = base.mark_text(dy=-6, fontSize=10, color="#333").encode(y="bar:Q", text="text:N")
    return (bars + labels).properties(title=title, height=260)
