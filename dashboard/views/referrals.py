"""Helpline referrals: shown → tapped → contacted, with small counts hidden."""

import polars as pl
import streamlit as st

from dashboard import charts, state
from dashboard.widgets import download, glossary_link
from queries.privacy import suppress

s = state.settings()
f = state.filters()
snap = state.snapshot_id()
n = s.privacy.min_cell

st.title("Helpline referrals")
st.caption(f"{state.describe(f)} · counts below {n} are shown as <{n}")
glossary_link()

partner_names = {p.id: p.name for p in s.partners}


def funnel_table(table: pl.DataFrame, title: str, n: int, thousands: bool) -> pl.DataFrame:
    """The funnel as shown and downloaded: small counts hidden, rates in percent."""
    return suppress(table, ["count_shown", "count_clicked", "count_contacted"], n, thousands=thousands).select(
        pl.col("segment").alias(title),
        pl.col("count_shown").alias("Shown"),
        pl.col("count_clicked").alias("Tapped"),
        pl.col("count_contacted").alias("Contacted"),
        (pl.col("click_rate") * 100).round(1).alias("Tap rate %"),
        (pl.col("contact_rate") * 100).round(1).alias("Contact rate %"),
    )


for dimension, title in [("partner_id", "Partner"), ("entry_point", "Entry point"), ("channel", "Channel")]:
    st.subheader(f"Funnel by {title.lower()}")
    raw = state.load("referral_funnel", snap, f, dimension)
    if raw.is_empty():
        st.info("No helpline events in this period for these filters. Widen the dates or clear a filter.")
        continue
    small = lambda c: (pl.col(c) > 0) & (pl.col(c) < n)  # noqa: E731
    table = raw.with_columns(
        segment=pl.col("segment").replace(partner_names) if dimension == "partner_id" else pl.col("segment"),
        click_rate=pl.when(~small("count_shown") & ~small("count_clicked") & (pl.col("count_shown") > 0)).then(
            pl.col("count_clicked") / pl.col("count_shown")
        ),
        contact_rate=pl.when(~small("count_clicked") & ~small("count_contacted") & (pl.col("count_clicked") > 0)).then(
            pl.col("count_contacted") / pl.col("count_clicked")
        ),
    )

    visible = table.with_columns(
        [
            pl.when(small(c)).then(None).otherwise(pl.col(c)).alias(c)
            for c in ["count_shown", "count_clicked", "count_contacted"]
        ]
    ).select(
        "segment", shown=pl.col("count_shown"), tapped=pl.col("count_clicked"), contacted=pl.col("count_contacted")
    )
    st.altair_chart(charts.funnel(visible, f"Shown, tapped and contacted by {title.lower()}"))
    st.dataframe(
        funnel_table(table, title, n, thousands=True),
        hide_index=True,
        column_config={
            "Tap rate %": st.column_config.NumberColumn(format="%.1f%%", help="Tapped ÷ shown"),
            "Contact rate %": st.column_config.NumberColumn(format="%.1f%%", help="Contacted ÷ tapped"),
        },
    )
    download(funnel_table(table, title, n, thousands=False), f"referral_funnel_by_{dimension}", f)
