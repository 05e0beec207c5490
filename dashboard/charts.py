"""Pure functions that return Altair charts, testable without Streamlit. Every title, axis
title and label is a parameter (the views pass them, in words); the charts themselves decide
only how things are drawn:

- every chart fits the width of the page (autosize `fit-x`: no fixed width, nothing wider
  than a phone) and has a height of its own: bar charts get `BAR_STEP` pixels a bar, so no
  bar is thinner than 18 px and no two labels overlap, at any width;
- scales are linear from zero; counts are written on their bars; a count that may not be
  shown (`<10`, `hidden`) is an outlined, dashed placeholder with its text and the reason in
  its tooltip, never a bar of made-up length;
- count axes tick at whole numbers; legends sit below the chart, in columns;
- time charts mark the campaign's dates (launch, `campaign.events`, end) and draw the
  current, partial day dashed and lighter, labelled "so far".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import polars as pl

from core.labels import N_, _, bound, digits

STREAM_COLORS = {
    "views": "#1F7A6B",  # engagement
    "hub_visits": "#4C78A8",  # Digital Wellness Hub
    "helpline_clicks": "#E4572E",  # referrals
    "reports": "#7A5C99",  # safety
}
# The Hub's four series on one chart: four hues (blue, orange, green, wine) that stay apart
# with full colour vision and for protanopes and deuteranopes (ΔE00 39 at the least between two
# of them; 18 when simulated; tests/test_dashboard_charts_browser.py checks the drawn chart);
# Hub visits in the Overview's Hub colour, tip-video views in the same green on both charts.
HUB_COLORS = {
    "hub_visit": STREAM_COLORS["hub_visits"],
    "guide_view": "#F2A541",
    "tip_video_view": "#117733",
    "screen_time_limit_set": "#882255",
}
PARTNER_PALETTE = ["#E4572E", "#1F7A6B", "#4C78A8", "#F2A541", "#7A5C99", "#5C946E"]
STAGE_COLORS = ["#F4B393", "#E4572E", "#8C2F1B"]  # shown, tapped, contacted

AUTOSIZE = alt.AutoSizeParams(type="fit-x", contains="padding")  # width: the page's; height: the plot's
BAR_STEP = 28  # pixels per bar: with BAR_PADDING a bar is 21 px thick, room for two lines of label
BAR_PADDING = 0.25
BAR_STEP_WRAPPED = 40  # pixels per bar when a label takes two lines: labels keep a gap between them
HEAT_STEP = 22  # pixels per weekday row of the heatmap
TILE_STEP = 54  # pixels per row of the province tile map
PLACEHOLDER_PX = 16  # width of the outlined placeholder drawn for a count that is not shown
LINE_HEIGHT = 240
# the "so far" label's bottom above the top of the plot: clear of a point drawn at the very top
# (today's count the period's highest), whose marker reaches about 4 px above it
SO_FAR_GAP_PX = 9
LABEL_WRAP = 20  # characters per line of a wrapped axis label
GRID = "#DDD"


# --- helpers ----------------------------------------------------------------------------


def _wrap(text: str, width: int = LABEL_WRAP, lines: int = 3) -> str:
    """`text` over at most `lines` lines of about `width` characters, joined by newlines (axis
    labels split on them, so a long partner name is wrapped, not cut)."""
    out: list[str] = []
    for word in text.split(" "):
        if out and len(out) <= lines and len(f"{out[-1]} {word}") <= width:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return "\n".join(out)


def _title(text: str) -> alt.TitleParams:
    """A chart title over as many lines as a phone needs (about 46 characters a line): a
    title in one line is cut at the chart's edge."""
    return alt.TitleParams(text=_wrap(text, 46, 4).split("\n"), anchor="start")


WRAPPED_LABELS = "split(datum.label, '\\n')"


def _count_text(value: pl.Expr, percent: bool) -> pl.Expr:
    from core import labels
    from dashboard import format as fmt

    if percent:
        return (value * 100).round(1).map_elements(labels.bound(fmt.percent), return_dtype=pl.String)
    return value.map_elements(labels.bound(lambda v: fmt.number(int(v))), return_dtype=pl.String)


def _with_shown(
    df: pl.DataFrame, value: str, text: str | None, why: dict[str, str] | None, percent: bool
) -> pl.DataFrame:
    """`df` plus `shown` (what is written: the number, or the protected text), `hidden` (no
    number may be drawn) and `why` (the reason a hidden one is hidden, for its tooltip)."""
    shown = (
        pl.coalesce(pl.col(text), _count_text(pl.col(value), percent)) if text else _count_text(pl.col(value), percent)
    )
    return (
        df.with_columns(shown=shown.fill_null("–"), hidden=pl.col(value).is_null())
        .with_columns(why=pl.col("shown").replace_strict(why or {}, default=None, return_dtype=pl.String))
        .with_columns(shown=pl.col("shown").map_elements(bound(digits), return_dtype=pl.String))  # '<10' → '<១០'
    )


def _value_domain(values: pl.Series, percent: bool) -> list[float]:
    """From zero to a little past the largest value, so the number written after the longest
    bar stays inside the chart."""
    top = values.drop_nulls().max()
    if not top:
        return [0, 1 if percent else 10]
    return [0, float(top) * 1.18]


def _legend(columns: int = 2, title: str | None = None, lines: bool = False) -> alt.Legend:
    """Below the chart, in columns: a legend beside a chart would squeeze it to half a phone's width."""
    symbol = {"symbolType": "stroke", "symbolStrokeWidth": 3} if lines else {"symbolType": "square"}
    return alt.Legend(orient="bottom", columns=columns, title=title, labelLimit=240, **symbol)


# --- campaign dates ---------------------------------------------------------------------


def campaign_days(
    launch: dt.date,
    end: dt.date | None,
    events: Iterable[Any],
    launch_label: str | None = None,
    end_label: str | None = None,
) -> list[tuple[dt.date, str]]:
    """The dates marked on every time chart, in order: the launch, each `campaign.events`
    entry (objects with `date` and `label`; one on the launch day replaces its label), the end."""
    marked = {launch: launch_label or _("Launch")}
    for e in events:
        marked[e.date] = e.label
    if end is not None:
        marked.setdefault(end, end_label or _("Campaign end"))
    return sorted(marked.items())


def _event_marks(events: Sequence[tuple[dt.date, str]], first: dt.date, last: dt.date) -> list[alt.Chart]:
    """A dashed rule and its label for every marked date in [first, last]; labels take turns
    on two lines so that two close dates do not write over each other."""
    inside = [(d, label) for d, label in events if first <= d <= last]
    if not inside:
        return []
    df = pl.DataFrame(
        {
            "day": [d for d, _ in inside],
            "label": [label for _, label in inside],
            "ypx": [4 + 13 * (i % 2) for i in range(len(inside))],
        }
    )
    rule = (
        alt.Chart(df)
        .mark_rule(strokeDash=[4, 3], color="#555")
        .encode(
            x="day:T", tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("day:T", format="%d %b %Y", title=" ")]
        )
    )
    # a label in the period's second half is written to the left of its rule: written to the
    # right, a mark near the last day runs past the plot, and on a phone the chart shrinks to fit it
    middle = first + (last - first) / 2
    texts = [
        alt.Chart(part)
        .mark_text(align=align, dx=dx, baseline="top", color="#333", fontSize=11)
        .encode(x="day:T", y=alt.Y("ypx:Q", scale=None), text="label:N")
        for part, align, dx in (
            (df.filter(pl.col("day") <= middle), "left", 4),
            (df.filter(pl.col("day") > middle), "right", -4),
        )
        if part.height
    ]
    return [rule, *texts]


# --- time charts ------------------------------------------------------------------------


def daily_lines(
    df: pl.DataFrame,
    series: str,
    title: str,
    y_title: str,
    *,
    labels: dict[str, str] | None = None,
    colors: Sequence[str] | dict[str, str] | None = None,
    events: Sequence[tuple[dt.date, str]] = (),
    today: dt.date | None = None,
    day_title: str | None = None,
    so_far: str | None = None,
    value: str = "count_events",
    value_name: str | None = None,
    day_format: str = "%a %d %b %Y",
    min_cell: int | None = None,
    small_why: str | None = None,
) -> alt.LayerChart:
    """Daily counts of `df` (`day`, `series`, `value`) as one line per series (one colour
    each, legend below in columns), on a linear scale from zero with whole-number ticks.
    `today` (campaign time), when inside the period, is still filling up: the stretch from
    the day before to it is dashed and lighter and its point is labelled `so_far`. Every
    date of `events` inside the period is marked with its label. With `min_cell` (policy
    pages), a day's count from 1 to min_cell - 1 is not in the chart's data at all: its value
    is null and `shown` reads `<min_cell`; it is drawn as a hollow point in the band below
    min_cell (the line breaks there), its tooltip saying `small_why`."""
    labels = labels or {}
    day_title = day_title or _("Campaign day")
    so_far = so_far or _("so far")
    data = df.with_columns(name=pl.col(series).replace_strict(labels, default=pl.col(series), return_dtype=pl.String))
    if min_cell is not None:
        small = (pl.col(value) > 0) & (pl.col(value) < min_cell)
        data = data.with_columns(
            shown=pl.when(small).then(pl.lit(digits(f"<{min_cell}"))),
            band=pl.when(small).then(pl.lit(min_cell / 2)),
            why=pl.when(small).then(
                pl.lit(
                    small_why or _("Fewer than {n}: not shown, so that no one can be singled out").format(n=min_cell)
                )
            ),
        ).with_columns(pl.when(small).then(None).otherwise(pl.col(value)).alias(value))
    codes = sorted(set(data[series].to_list()))
    names = [labels.get(c, c) for c in codes]
    if len(names) > 1:
        palette = (
            [colors.get(c, "#888") for c in codes] if isinstance(colors, dict) else list(colors or PARTNER_PALETTE)
        )
        color: Any = alt.Color(
            "name:N",
            scale=alt.Scale(domain=names, range=palette[: len(names)]),
            legend=_legend(2, lines=True),
            title=None,
        )
    else:
        first = list(colors.values()) if isinstance(colors, dict) else list(colors or ["#1F7A6B"])
        color = alt.value(first[0])
    y = alt.Y(
        f"{value}:Q",
        title=y_title,
        scale=alt.Scale(type="linear", zero=True),
        axis=alt.Axis(format=",d", tickMinStep=1),
    )
    x = alt.X("day:T", title=day_title, axis=alt.Axis(format="%d %b", labelAngle=0, labelOverlap=True, grid=False))
    tooltip = [
        alt.Tooltip("day:T", title=day_title, format=day_format),
        alt.Tooltip("name:N", title=" "),
        alt.Tooltip(f"{value}:Q", title=value_name or y_title, format=","),
    ]
    partial = today is not None and data.height > 0 and data["day"].min() <= today <= data["day"].max()
    complete = data.filter(pl.col("day") < today) if partial else data
    layers: list[alt.Chart] = [
        alt.Chart(complete, title=_title(title))
        .mark_line(strokeWidth=2, interpolate="linear")
        .encode(x=x, y=y, color=color, detail="name:N", tooltip=tooltip)
    ]
    if partial:
        assert today is not None
        recent = data.filter(pl.col("day") >= today - dt.timedelta(days=1))
        now = data.filter(pl.col("day") == today).with_columns(label=pl.lit(so_far))
        layers += [
            alt.Chart(recent)
            .mark_line(strokeWidth=2, strokeDash=[4, 4], opacity=0.55)
            .encode(x=x, y=y, color=color, detail="name:N", tooltip=tooltip),
            alt.Chart(now)
            .mark_point(filled=False, size=40, opacity=0.8)
            .encode(x=x, y=y, color=color, tooltip=tooltip),
            # the words sit above the plot, ending over today's x: next to the point they touched
            # it, and the other series' points and the dashed lines of today can be anywhere below
            alt.Chart(now.head(1))
            .mark_text(
                align="right", baseline="bottom", dy=-SO_FAR_GAP_PX, fontStyle="italic", color="#555", fontSize=11
            )
            .encode(x=x, y=alt.value(0), text="label:N"),
        ]
    if min_cell is not None and data["shown"].is_not_null().any():
        band_y = alt.Y("band:Q", scale=alt.Scale(type="linear", zero=True))
        layers.append(
            alt.Chart(data.filter(pl.col("shown").is_not_null()))
            .mark_point(filled=False, size=30, strokeDash=[2, 1], opacity=0.9)
            .encode(
                x=x,
                y=band_y,
                color=color,
                tooltip=[
                    alt.Tooltip("day:T", title=day_title, format=day_format),
                    alt.Tooltip("name:N", title=" "),
                    alt.Tooltip("shown:N", title=value_name or y_title),
                    alt.Tooltip("why:N", title=" "),
                ],
            )
        )
    if data.height:
        layers += _event_marks(events, data["day"].min(), data["day"].max())
    return alt.layer(*layers).properties(height=LINE_HEIGHT, autosize=AUTOSIZE)


def weekly_rhythm(
    df: pl.DataFrame, title: str, hour_title: str, value_title: str, day_names: Sequence[str]
) -> alt.Chart:
    """Day of week × hour heatmap (`day_of_week` 1 = Monday, `hour`, `count_events`): every
    one of the seven days has its row and its name, every hour its column."""
    names = list(day_names)
    data = df.with_columns(weekday=pl.col("day_of_week").replace_strict(range(1, 8), names, return_dtype=pl.String))
    return (
        alt.Chart(data, title=_title(title))
        .mark_rect()
        .encode(
            x=alt.X(
                "hour:O",
                title=hour_title,
                scale=alt.Scale(domain=list(range(24))),
                axis=alt.Axis(labelAngle=0, labelOverlap="parity"),
            ),
            y=alt.Y(
                "weekday:N",
                sort=names,
                title=None,
                scale=alt.Scale(domain=names),
                axis=alt.Axis(labelOverlap=False),
            ),
            color=alt.Color(
                "count_events:Q",
                title=value_title,
                scale=alt.Scale(scheme="greens", type="linear", zero=True),
                legend=alt.Legend(orient="bottom", format=",d", title=value_title, gradientLength=220),
            ),
            tooltip=[
                alt.Tooltip("weekday:N", title=" "),
                alt.Tooltip("hour:O", title=hour_title),
                alt.Tooltip("count_events:Q", title=value_title, format=","),
            ],
        )
        .properties(height=7 * HEAT_STEP, autosize=AUTOSIZE)
    )


# --- bar charts -------------------------------------------------------------------------


def _hbar_layers(base: alt.Chart, value: str, x: alt.X, color: Any, stroke: Any, label_dx: int = 3) -> list[alt.Chart]:
    """Bars for the shown counts with their number written after them; for the hidden ones an
    outlined dashed placeholder of PLACEHOLDER_PX pixels with its text (`<10`, `hidden`)."""
    shown = base.transform_filter("!datum.hidden")
    hidden = base.transform_filter("datum.hidden")
    full = alt.RelativeBandSize(1)  # the whole band: Streamlit's theme draws bars at 0.85 of it
    return [
        shown.mark_bar(height=full).encode(x=x, color=color),
        hidden.mark_bar(height=full, fillOpacity=0, strokeDash=[3, 2], strokeWidth=1.2).encode(
            x=alt.value(0), x2=alt.value(PLACEHOLDER_PX), stroke=stroke
        ),
        shown.mark_text(align="left", dx=label_dx, fontSize=11, color="#333").encode(x=x, text="shown:N"),
        hidden.mark_text(align="left", dx=PLACEHOLDER_PX + 4, fontSize=11, fontStyle="italic", color="#555").encode(
            x=alt.value(0), text="shown:N"
        ),
    ]


def bars(
    df: pl.DataFrame,
    label: str,
    value: str,
    title: str,
    value_title: str,
    color: str = "#1F7A6B",
    percent: bool = False,
    *,
    text: str | None = None,
    why: dict[str, str] | None = None,
    label_title: str = " ",
) -> alt.LayerChart:
    """Horizontal bars sorted by value (segments: provinces, age bands, partners…), BAR_STEP
    pixels each, the value written after every bar. A row whose `value` is null is drawn as
    a placeholder labelled with its `text` column (e.g. `<10`); `why` maps that text to the
    reason shown in its tooltip."""
    data = _with_shown(df, value, text, why, percent).with_columns(
        axis_label=pl.col(label).cast(pl.String).map_elements(lambda t: _wrap(t, 26, 2), return_dtype=pl.String)
    )
    order = data.sort(value, descending=True, nulls_last=True, maintain_order=True)["axis_label"].to_list()
    base = alt.Chart(data, title=_title(title)).encode(
        y=alt.Y(
            "axis_label:N",
            sort=order,
            title=None,
            scale=alt.Scale(paddingInner=BAR_PADDING, paddingOuter=BAR_PADDING / 2),
            axis=alt.Axis(labelOverlap=False, labelLimit=170, labelExpr=WRAPPED_LABELS, ticks=False),
        ),
        tooltip=[
            alt.Tooltip(f"{label}:N", title=label_title),
            alt.Tooltip("shown:N", title=value_title),
            alt.Tooltip("why:N", title=" "),
        ],
    )
    x = alt.X(
        f"{value}:Q",
        title=value_title,
        scale=alt.Scale(type="linear", zero=True, domain=_value_domain(data[value], percent), nice=False),
        axis=alt.Axis(
            format=".0%" if percent else ",d", tickMinStep=0.1 if percent else 1, gridColor=GRID, labelFlush=True
        ),
    )
    layers = _hbar_layers(base, value, x, alt.value(color), alt.value(color))
    step = BAR_STEP_WRAPPED if data["axis_label"].str.contains("\n").any() else BAR_STEP
    return alt.layer(*layers).properties(height=step * max(1, data.height), autosize=AUTOSIZE)


def funnel(
    df: pl.DataFrame,
    title: str,
    value_title: str,
    stages: Sequence[str],
    *,
    why: dict[str, str] | None = None,
    segment_title: str = " ",
) -> alt.LayerChart:
    """Helpline funnel per segment (`segment`, `stage`, `count`, `text`): for each segment
    one bar per stage, grouped, on one linear scale from zero (82 contacted is drawn 4% as
    long as 2,088 shown), each count written after its bar; a count that may not be shown
    (`count` null) is an outlined placeholder with its text. One chart, the page's width,
    BAR_STEP pixels a bar: it reads the same on a phone."""
    stages = list(stages)
    data = _with_shown(df, "count", "text", why, False).with_columns(
        axis_label=pl.col("segment").map_elements(_wrap, return_dtype=pl.String)
    )
    segments = list(dict.fromkeys(data["axis_label"].to_list()))
    scale = alt.Scale(domain=stages, range=STAGE_COLORS[: len(stages)])
    base = alt.Chart(data, title=_title(title)).encode(
        y=alt.Y(
            "axis_label:N",
            sort=segments,
            title=None,
            scale=alt.Scale(paddingInner=0.22, paddingOuter=0.08),
            axis=alt.Axis(labelOverlap=False, labelLimit=150, labelExpr=WRAPPED_LABELS, ticks=False, labelPadding=6),
        ),
        yOffset=alt.YOffset("stage:N", sort=stages, scale=alt.Scale(domain=stages, paddingInner=0.1)),
        tooltip=[
            alt.Tooltip("segment:N", title=segment_title),
            alt.Tooltip("stage:N", title=" "),
            alt.Tooltip("shown:N", title=value_title),
            alt.Tooltip("why:N", title=" "),
        ],
    )
    x = alt.X(
        "count:Q",
        title=value_title,
        scale=alt.Scale(type="linear", zero=True, domain=_value_domain(data["count"], False), nice=False),
        axis=alt.Axis(format=",d", tickMinStep=1, gridColor=GRID, labelFlush=True),
    )
    color = alt.Color("stage:N", sort=stages, scale=scale, title=None, legend=_legend(2))
    stroke = alt.Stroke("stage:N", sort=stages, scale=scale, legend=None)
    layers = _hbar_layers(base, "count", x, color, stroke)
    return alt.layer(*layers).properties(height=BAR_STEP * len(stages) * max(1, len(segments)), autosize=AUTOSIZE)


# --- the language of a chart -------------------------------------------------------------

KHMER_FONT = '"Khmer OS System", "Khmer OS", sans-serif'  # Debian's fonts-khmeros: Khmer shaped, Latin too
KHMER_NUMERALS = list("០១២៣៤៥៦៧៨៩")


def _day_month(day: dt.date) -> str:
    from core import labels

    return labels.digits(_("{day} {month}").format(day=f"{day:%d}", month=labels.label("month_short", day.month)))


def language_config(lang: str, khmer_digits: bool = False) -> dict[str, Any]:
    """The Vega-Lite `config` that draws a chart in `lang`: a Khmer font (so Vega measures and
    Chromium shapes Khmer with the same font), month and weekday names of the time axes and
    tooltips from Babel's CLDR data, and with `khmer_digits` every number in Khmer digits
    (d3-format's `numerals`). Empty for English with Latin digits: the chart as it always was."""
    if lang == "en" and not khmer_digits:
        return {}
    from babel import Locale

    loc = Locale.parse(lang)
    days = [loc.days["format"][width][(i - 1) % 7] for width in ("wide", "abbreviated") for i in range(7)]
    number: dict[str, Any] = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", ""]}
    if khmer_digits:
        number["numerals"] = KHMER_NUMERALS
    config: dict[str, Any] = {
        "locale": {
            "number": number,
            "time": {
                "dateTime": "%x, %X",
                "date": "%d/%m/%Y",
                "time": "%H:%M:%S",
                "periods": ["AM", "PM"],
                "days": days[:7],  # d3 starts the week on Sunday
                "shortDays": days[7:],
                "months": [loc.months["format"]["wide"][m] for m in range(1, 13)],
                "shortMonths": [loc.months["format"]["abbreviated"][m] for m in range(1, 13)],
            },
        }
    }
    if lang == "km":
        config["font"] = KHMER_FONT
        # Khmer stacks marks above and below its letters: a wrapped label's lines need more room
        config["axis"] = {"labelLineHeight": 17}
        config["title"] = {"lineHeight": 22}  # a title of two lines: room for the marks between them
    return config


def in_language(chart: alt.TopLevelMixin, lang: str, khmer_digits: bool = False) -> alt.TopLevelMixin:
    """`chart` drawn in `lang` (`language_config`); unchanged in English."""
    config = language_config(lang, khmer_digits)
    if not config:
        return chart
    return chart.configure(**config)


# --- the province map -------------------------------------------------------------------

# Cambodia's 25 provinces on a 6 × 6 grid, each square placed roughly where the province
# lies (north up, west left): (ISO 3166-2:KH code, short name for the tile, column, row).
PROVINCE_TILES: tuple[tuple[str, str, int, int], ...] = (
    ("KH-1", N_("B. Meanchey"), 1, 0),
    ("KH-22", N_("O. Meanchey"), 2, 0),
    ("KH-13", N_("P. Vihear"), 3, 0),
    ("KH-19", N_("S. Treng"), 4, 0),
    ("KH-16", N_("Ratanakiri"), 5, 0),
    ("KH-24", N_("Pailin"), 0, 1),
    ("KH-2", N_("Battambang"), 1, 1),
    ("KH-17", N_("Siem Reap"), 2, 1),
    ("KH-6", N_("K. Thom"), 3, 1),
    ("KH-10", N_("Kratie"), 4, 1),
    ("KH-11", N_("Mondulkiri"), 5, 1),
    ("KH-15", N_("Pursat"), 1, 2),
    ("KH-4", N_("K. Chhnang"), 2, 2),
    ("KH-3", N_("K. Cham"), 3, 2),
    ("KH-25", N_("T. Khmum"), 4, 2),
    ("KH-9", N_("Koh Kong"), 1, 3),
    ("KH-5", N_("K. Speu"), 2, 3),
    ("KH-12", N_("Phnom Penh"), 3, 3),
    ("KH-14", N_("Prey Veng"), 4, 3),
    ("KH-18", N_("Sihanouk"), 1, 4),
    ("KH-7", N_("Kampot"), 2, 4),
    ("KH-8", N_("Kandal"), 3, 4),
    ("KH-20", N_("Svay Rieng"), 4, 4),
    ("KH-23", N_("Kep"), 2, 5),
    ("KH-21", N_("Takeo"), 3, 5),
)


def province_tiles(
    df: pl.DataFrame,
    title: str,
    value_title: str,
    *,
    names: dict[str, str] | None = None,
    why: dict[str, str] | None = None,
    province_title: str = " ",
    selected: Sequence[str] = (),
    not_selected: str | None = None,
) -> alt.LayerChart:
    """A tile map of the 25 provinces (`province` code, `count`, `text`): each a square where
    the province roughly lies, coloured by `count` on a linear scale from zero, with its
    short name and what may be shown. A province with a null `count` (a small, protected
    cell) has no colour, only a dashed outline and its text (`<10`): neither its colour nor
    its tooltip tells the number. A province absent from `df` had none (0), unless the
    page is filtered to `selected` provinces and it is not one of them: then it is greyed,
    without a number, and its tooltip says `not_selected`."""
    not_selected = not_selected or _("Not in the filter")
    grid = pl.DataFrame(
        {
            "province": [t[0] for t in PROVINCE_TILES],
            "short": [_(t[1]) for t in PROVINCE_TILES],  # in Khmer: the province's whole name
            "col": [t[2] for t in PROVINCE_TILES],
            "row": [t[3] for t in PROVINCE_TILES],
        }
    )
    given = df.select("province", pl.col("count").cast(pl.Int64), pl.col("text").cast(pl.String)).with_columns(
        present=pl.lit(True)
    )
    data = (
        grid.join(given, on="province", how="left")
        .with_columns(
            count=pl.when(pl.col("present")).then(pl.col("count")).otherwise(0),
            name=pl.col("province").replace_strict(names or {}, default=pl.col("short"), return_dtype=pl.String),
        )
        .pipe(_with_shown, "count", "text", why, False)
        .drop("present")
        .with_columns(out=pl.lit(bool(selected)) & ~pl.col("province").is_in(list(selected)))
        .with_columns(
            hidden=pl.col("hidden") & ~pl.col("out"),
            count=pl.when(pl.col("out")).then(None).otherwise(pl.col("count")),
            shown=pl.when(pl.col("out")).then(pl.lit("")).otherwise(pl.col("shown")),
            why=pl.when(pl.col("out")).then(pl.lit(not_selected)).otherwise(pl.col("why")),
        )
    )
    top = data["count"].max() or 0
    base = alt.Chart(data, title=_title(title)).encode(
        x=alt.X("col:O", axis=None, scale=alt.Scale(domain=list(range(6)), paddingInner=0.06)),
        y=alt.Y("row:O", axis=None, scale=alt.Scale(domain=list(range(6)), paddingInner=0.06)),
        tooltip=[
            alt.Tooltip("name:N", title=province_title),
            alt.Tooltip("shown:N", title=value_title),
            alt.Tooltip("why:N", title=" "),
        ],
    )
    shown = base.transform_filter("!datum.hidden && !datum.out")
    hidden = base.transform_filter("datum.hidden")
    out = base.transform_filter("datum.out")
    ink = alt.condition(f"datum.count > {top * 0.55}", alt.value("white"), alt.value("#222"))
    layers = [
        shown.mark_rect(cornerRadius=3).encode(
            color=alt.Color(
                "count:Q",
                title=value_title,
                scale=alt.Scale(scheme="greens", type="linear", domain=[0, max(top, 1)]),
                legend=alt.Legend(orient="bottom", format=",d", title=value_title, gradientLength=220),
            )
        ),
        hidden.mark_rect(cornerRadius=3, fill="white", stroke="#888", strokeDash=[3, 2]),
        out.mark_rect(cornerRadius=3, fill="#EEE"),
        base.mark_text(dy=-7, fontSize=9).encode(text="short:N", color=ink),
        base.mark_text(dy=7, fontSize=10, fontWeight="bold").encode(text="shown:N", color=ink),
    ]
    return alt.layer(*layers).properties(height=6 * TILE_STEP, autosize=AUTOSIZE)


PARTNER_MEASURE_COLORS = [*STAGE_COLORS, "#1F7A6B"]  # shown, tapped, contacted, tip-video views (in that order)


def weekly_partner_totals(
    totals: pl.DataFrame, title: str, measures: list[str], *, flat_y_title: bool = False
) -> alt.LayerChart:
    """Released weekly totals of a partner, grouped bars per week; every bar is labelled with
    what the partner may see (the number, `<N` or `hidden`), and a hidden one has no bar.
    `flat_y_title`: the count axis's title across, above the axis (vl-convert misplaces the
    marks of Khmer letters in a rotated title)."""
    df = totals.filter(pl.col("measure").is_in(measures)).with_columns(
        week=pl.col("week_start").map_elements(bound(_day_month), return_dtype=pl.String),
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
        y=alt.Y(
            "bar:Q",
            title=_("Events in the week"),
            axis=alt.Axis(
                format=",d",
                **({"titleAngle": 0, "titleAlign": "left", "titleY": -14, "titleX": 0} if flat_y_title else {}),
            ),  # fmt: skip
        ),
        color=alt.Color(
            "measure:N",
            sort=measures,
            title=None,
            scale=alt.Scale(domain=measures, range=PARTNER_MEASURE_COLORS[: len(measures)]),
            legend=alt.Legend(orient="top"),
        ),
    )
    labels = base.mark_text(dy=-6, fontSize=10, color="#333").encode(y="bar:Q", text="text:N")
    return (bars + labels).properties(title=title, height=260)
