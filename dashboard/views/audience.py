"""Audience: where, with whom, in which language is the campaign reaching people?"""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard.widgets import download, glossary_link

s = state.settings()
f = state.filters()
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
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "Unique reach": st.column_config.NumberColumn(format="localized"),
            "Views": st.column_config.NumberColumn(format="localized"),
            "Engaged people": st.column_config.NumberColumn(format="localized"),
            "Share of reach %": st.column_config.NumberColumn(format="%.1f%%"),
            "Engagement rate %": st.column_config.NumberColumn(format="%.1f%%"),
        },
    )
    download(shown, f"reach_by_{dimension}", f)
