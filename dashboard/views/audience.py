"""Audience: where, with whom, in which language is the campaign reaching people?"""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard.widgets import download, glossary_link
from queries.privacy import suppress

s = state.settings()
f = state.filters()
snap = state.snapshot_id()
n = s.privacy.min_cell
WHY = {
    f"<{n}": f"Fewer than {n} people: not shown, so that no one can be singled out",
    "withheld": f"Not shown: with fewer than {n} people reached, the rate would give the count away",
}

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
    # a reach below min_cell is drawn as a marked placeholder, never as its number, and its
    # engagement rate (which would give the number back with the engaged count) is withheld
    reach_text = suppress(df.select("count_unique_reach"), ["count_unique_reach"], n, thousands=True)
    drawn = df.with_columns(
        reach_text=reach_text["count_unique_reach"],
        reach=pl.when((pl.col("count_unique_reach") >= n) | (pl.col("count_unique_reach") == 0)).then(
            pl.col("count_unique_reach")
        ),
        rate=pl.when(pl.col("count_unique_reach") >= n).then(pl.col("engagement_rate")),
        rate_text=pl.when(pl.col("count_unique_reach") < n).then(pl.lit("withheld")),
    )
    if dimension == "province":
        beside_map, table_box = st.columns(2)
        with beside_map:
            st.altair_chart(
                charts.province_tiles(
                    drawn.select(province="segment", count="reach", text="reach_text"),
                    "Unique reach by province, on the map",
                    "People reached",
                    names=state.PROVINCE_NAMES,
                    why=WHY,
                    province_title="Province",
                    selected=f.provinces,
                    not_selected="Not in the filter",
                ),
                width="stretch",
            )
            unknown = drawn.filter(pl.col("segment") == "unknown")
            if not unknown.is_empty():
                st.caption(f"Province unknown: {unknown['reach_text'][0]} people reached (not on the map).")
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.bars(
                drawn,
                "segment_name",
                "reach",
                f"Unique reach by {title.lower()}",
                "People reached",
                text="reach_text",
                why=WHY,
                label_title=title,
            ),
            width="stretch",
        )
    with right:
        st.altair_chart(
            charts.bars(
                drawn,
                "segment_name",
                "rate",
                f"Engagement rate by {title.lower()}",
                "Engaged ÷ reached",
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
    shown = df.select(
        pl.col("segment_name").alias(title),
        pl.col("count_unique_reach").alias("Unique reach"),
        (pl.col("share_of_reach") * 100).round(1).alias("Share of reach %"),
        pl.col("count_views").alias("Views"),
        pl.col("count_engaged_users").alias("Engaged people"),
        (pl.col("engagement_rate") * 100).round(1).alias("Engagement rate %"),
    )
    table_box.dataframe(
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
