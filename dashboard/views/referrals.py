"""Helpline referrals: shown → tapped → contacted, with small counts hidden."""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard import format as fmt
from dashboard.widgets import download, glossary_link
from queries.privacy import protect_columns

s = state.settings()
f = state.filters()
snap = state.snapshot_id()
n = s.privacy.min_cell

st.title("Helpline referrals")
st.caption(
    f"{state.describe(f)} · counts below {n} read <{n}; 'hidden' marks a count of {n} or more hidden so that "
    "a small one cannot be worked out from the column's total"
)
glossary_link()

partner_names = {p.id: p.name for p in s.partners}


COUNTS = {"count_shown": "Shown", "count_clicked": "Tapped", "count_contacted": "Contacted"}
WHY = {
    f"<{n}": f"Fewer than {n}: not shown, so that no one can be singled out",
    "hidden": f"{n} or more, hidden so that a smaller count cannot be worked out from the total",
}

daily = state.load("referral_daily", snap, f)
st.subheader("Day by day")
if daily["count_events"].sum() == 0:
    st.info("No helpline events in this period for these filters. Widen the dates or clear a filter.")
else:
    left, right = st.columns(2)
    for i, (stage, name, unit) in enumerate(
        [
            ("shown", "Helpline cards shown", "Cards shown per day"),
            ("clicked", "Helpline cards tapped", "Taps per day"),
            ("contacted", "Contacts confirmed by partners", "Contacts per day"),
        ]
    ):
        with left if i % 2 == 0 else right:
            st.altair_chart(
                charts.daily_lines(
                    daily.filter(pl.col("stage") == stage),
                    "stage",
                    name,
                    unit,
                    colors=[charts.STAGE_COLORS[i] if i else "#D9803F"],
                    events=charts.campaign_days(s.launch, s.end, s.campaign.events, "Launch", "Campaign end"),
                    today=s.today(),
                    day_title="Campaign day",
                    so_far="so far",
                ),
                width="stretch",
            )


def funnel_table(protected: pl.DataFrame, visible: pl.DataFrame, title: str) -> pl.DataFrame:
    """The funnel as shown and downloaded: protected counts as text, rates in percent where
    both of their counts are shown."""
    return protected.select(
        pl.col("segment").alias(title), *[pl.col(c).alias(name) for c, name in COUNTS.items()]
    ).with_columns(
        (visible["count_clicked"] / visible["count_shown"] * 100).round(1).alias("Tap rate %"),
        (visible["count_contacted"] / visible["count_clicked"] * 100).round(1).alias("Contact rate %"),
    )


for dimension, title in [("partner_id", "Partner"), ("entry_point", "Entry point"), ("channel", "Channel")]:
    st.subheader(f"Funnel by {title.lower()}")
    raw = state.load("referral_funnel", snap, f, dimension)
    if raw.is_empty():
        st.info("No helpline events in this period for these filters. Widen the dates or clear a filter.")
        continue
    if dimension == "partner_id":
        raw = raw.with_columns(segment=pl.col("segment").replace(partner_names))
    # each column's total is on the Overview, so small cells get complementary protection
    protected = protect_columns(raw, list(COUNTS), n)
    visible = protected.with_columns(pl.col(c).cast(pl.Int64, strict=False) for c in COUNTS)  # null unless shown
    chart_data = pl.concat(
        [
            protected.select(
                "segment",
                stage=pl.lit(name),
                count=visible[column],
                text=pl.col(column).map_elements(fmt.count_text, return_dtype=pl.String),
            )
            for column, name in COUNTS.items()
        ]
    )
    st.altair_chart(
        charts.funnel(
            chart_data,
            f"Shown, tapped and contacted by {title.lower()}",
            "Helpline events",
            list(COUNTS.values()),
            why=WHY,
            segment_title=title,
        ),
        width="stretch",
    )
    table = funnel_table(protected, visible, title)
    st.dataframe(
        table.with_columns(
            pl.col(name).map_elements(fmt.count_text, return_dtype=pl.String) for name in COUNTS.values()
        ),
        hide_index=True,
        column_config={
            "Tap rate %": st.column_config.NumberColumn(format="%.1f%%", help="Tapped ÷ shown, where both are shown"),
            "Contact rate %": st.column_config.NumberColumn(
                format="%.1f%%", help="Contacted ÷ tapped, where both are shown"
            ),
        },
    )
    download(table, f"referral_funnel_by_{dimension}", f)
