"""Audience: where, with whom, in which language is the campaign reaching people?"""

import polars as pl
import streamlit as st

from core import labels
from core.labels import _
from dashboard import charts, state, widgets
from dashboard import format as fmt
from dashboard.widgets import download, glossary_link
from queries.privacy import suppress

s = state.settings()
f = state.filters()
n = s.privacy.min_cell
snap = state.snapshot_id()
WITHHELD = _("withheld")
WHY = {
    f"<{n}": _("Fewer than {n} people: not shown, so that no one can be singled out").format(n=n),
    WITHHELD: _("Not shown: with fewer than {n} people reached or engaged, the rate would give the count away").format(
        n=n
    ),
}

st.title(_("Who does the campaign reach?"))
st.caption(state.describe(f) + " · " + _("campaign videos only"))
glossary_link()

everything = state.load("reach_by_segment", snap, f)
BY = {
    "province": (_("Province"), _("By province"), _("Unique reach by province"), _("Engagement rate by province")),
    "age_band": (_("Age band"), _("By age band"), _("Unique reach by age band"), _("Engagement rate by age band")),
    "language": (_("Language"), _("By language"), _("Unique reach by language"), _("Engagement rate by language")),
}
for dimension, (title, heading, reach_title, rate_title) in BY.items():
    st.subheader(heading)
    df = everything.filter(pl.col("dimension") == dimension)
    if df.is_empty():
        st.info(_("No views of campaign videos in this period for these filters. Widen the dates or clear a filter."))
        continue
    df = df.with_columns(
        segment_name=pl.col("segment").replace_strict(labels.labels(dimension), default=pl.col("segment")),
        engagement_rate=pl.when(pl.col("count_unique_reach") > 0).then(
            pl.col("count_engaged_users") / pl.col("count_unique_reach")
        ),
        share_of_reach=pl.col("count_unique_reach") / pl.col("count_unique_reach").sum(),
    )
    # a reach below min_cell is drawn as a marked placeholder, never as its number, and its
    # engagement rate (which would give the number back with the engaged count) is withheld
    small_engaged = (pl.col("count_engaged_users") > 0) & (pl.col("count_engaged_users") < n)
    reach_text = suppress(df.select("count_unique_reach"), ["count_unique_reach"], n, thousands=True)
    drawn = df.with_columns(
        reach_text=reach_text["count_unique_reach"],
        reach=pl.when((pl.col("count_unique_reach") >= n) | (pl.col("count_unique_reach") == 0)).then(
            pl.col("count_unique_reach")
        ),
        rate=pl.when((pl.col("count_unique_reach") >= n) & ~small_engaged).then(pl.col("engagement_rate")),
        rate_text=pl.when((pl.col("count_unique_reach") < n) | small_engaged).then(pl.lit(WITHHELD)),
    )
    if dimension == "province":
        beside_map, table_box = st.columns(2)
        with beside_map:
            widgets.altair_chart(
                charts.province_tiles(
                    drawn.select(province="segment", count="reach", text="reach_text"),
                    _("Unique reach by province, on the map"),
                    _("People reached"),
                    names=labels.labels("province"),
                    why=WHY,
                    province_title=_("Province"),
                    selected=f.provinces,
                    not_selected=_("Not in the filter"),
                ),
                width="stretch",
            )
            unknown = drawn.filter(pl.col("segment") == "unknown")
            if not unknown.is_empty():
                st.caption(
                    _("Province unknown: {n} people reached (not on the map).").format(n=unknown["reach_text"][0])
                )
    left, right = st.columns(2)
    with left:
        widgets.altair_chart(
            charts.bars(
                drawn,
                "segment_name",
                "reach",
                reach_title,
                _("People reached"),
                text="reach_text",
                why=WHY,
                label_title=title,
            ),
            width="stretch",
        )
    with right:
        widgets.altair_chart(
            charts.bars(
                drawn,
                "segment_name",
                "rate",
                rate_title,
                _("Engaged ÷ reached"),
                color="#4C78A8",
                percent=True,
                text="rate_text",
                why=WHY,
                label_title=title,
            ),
            width="stretch",
        )
    if dimension != "province":
        table_box = st.container()
    reach, share, views, engaged, rate = (
        _("Unique reach"),
        _("Share of reach %"),
        _("Views"),
        _("Engaged people"),
        _("Engagement rate %"),
    )
    shown = df.select(
        pl.col("segment_name").alias(title),
        pl.col("count_unique_reach").alias(reach),
        (pl.col("share_of_reach") * 100).round(1).alias(share),
        pl.col("count_views").alias(views),
        pl.col("count_engaged_users").alias(engaged),
        (pl.col("engagement_rate") * 100).round(1).alias(rate),
    )
    # a share or rate next to a count below min_cell would give the count back: withheld with it
    small = lambda c: (pl.col(c) > 0) & (pl.col(c) < n)  # noqa: E731
    shown = shown.with_columns(
        pl.when(small(reach)).then(None).otherwise(pl.col(share)).alias(share),
        pl.when(small(reach) | small(engaged)).then(None).otherwise(pl.col(rate)).alias(rate),
    )
    counts = [reach, views, engaged]
    rates = [share, rate]
    # only text reaches the browser: no count below min_cell is ever sent as a number
    table_box.dataframe(
        suppress(shown, counts, n, thousands=True).with_columns(
            pl.col(c).map_elements(labels.bound(fmt.percent), return_dtype=pl.String).fill_null("–") for c in rates
        ),
        hide_index=True,
    )
    download(shown, f"reach_by_{dimension}", f)
