"""Audience: where, with whom, in which language is the campaign reaching people?"""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard.widgets import download, glossary_link
from queries.privacy import suppress

s = state.settings()
f = state.filters()
n = s.privacy.min_cell
snap = state.snapshot_id()

st.title("Who does the campaign reach?")
st.caption(f"{state.describe(f)} · campaign videos only")
glossary_link()

NAMES = {
    "province": state.PROVINCE_NAMES,
    "age_band": {},
    "language": state.LANGUAGE_NAMES,
}
everything = state.load("reach_by_segment", snap, f)
for dimension, title in [("province", "Province"), ("age_band", "Age band"), ("language", "Language")]:
    st.subheader(f"By {title.lower()}")
    df = everything.filter(pl.col("dimension") == dimension)
    if df.is_empty():
        st.info("No views of campaign videos in this period for these filters. Widen the dates or clear a filter.")
        continue
    df = df.with_columns(
        segment_name=pl.col("segment").replace(NAMES[dimension]),
        engagement_rate=pl.when(pl.col("count_unique_reach") > 0).then(
            pl.col("count_engaged_users") / pl.col("count_unique_reach")
        ),
        share_of_reach=pl.col("count_unique_reach") / pl.col("count_unique_reach").sum(),
    )
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.bars(df, "segment_name", "count_unique_reach", f"Unique reach by {title.lower()}", "People reached")
        )
    with right:
        st.altair_chart(
            charts.bars(
                df,
                "segment_name",
                "engagement_rate",
                f"Engagement rate by {title.lower()}",
                "Engaged ÷ reached",
                color="#4C78A8",
                percent=True,
            )
        )
    shown = df.select(
        pl.col("segment_name").alias(title),
        pl.col("count_unique_reach").alias("Unique reach"),
        (pl.col("share_of_reach") * 100).round(1).alias("Share of reach %"),
        pl.col("count_views").alias("Views"),
        pl.col("count_engaged_users").alias("Engaged people"),
        (pl.col("engagement_rate") * 100).round(1).alias("Engagement rate %"),
    )
    # a share or rate next to a count below min_cell would give the count back: withheld with it
    small = lambda c: (pl.col(c) > 0) & (pl.col(c) < n)  # noqa: E731
    shown = shown.with_columns(
        pl.when(small("Unique reach")).then(None).otherwise(pl.col("Share of reach %")).alias("Share of reach %"),
        pl.when(small("Unique reach") | small("Engaged people"))
        .then(None)
        .otherwise(pl.col("Engagement rate %"))
        .alias("Engagement rate %"),
    )
    counts = ["Unique reach", "Views", "Engaged people"]
    rates = ["Share of reach %", "Engagement rate %"]
    # only text reaches the browser: no count below min_cell is ever sent as a number
    st.dataframe(
        suppress(shown, counts, n, thousands=True).with_columns(
            pl.col(c).map_elements(lambda x: f"{x:.1f}%", return_dtype=pl.String).fill_null("–") for c in rates
        ),
        hide_index=True,
    )
    download(shown, f"reach_by_{dimension}", f)
