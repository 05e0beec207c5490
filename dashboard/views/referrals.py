"""Helpline referrals: shown → tapped → contacted, with small counts hidden."""

import polars as pl
import streamlit as st

from core import labels
from core.labels import _
from dashboard import charts, state, widgets
from dashboard import format as fmt
from dashboard.widgets import alert_days, download, glossary_link
from queries.privacy import protect_columns

s = state.settings()
f = state.filters()
snap = state.snapshot_id()
n = s.privacy.min_cell

st.title(_("Helpline referrals"))
st.caption(
    state.describe(f)
    + " · "
    + _(
        "counts below {n} read <{n}; 'hidden' marks a count of {n} or more hidden so that "
        "a small one cannot be worked out from the column's total; a rate built on either is 'withheld'"
    ).format(n=n)
)
glossary_link()

partner_names = {p.id: p.name for p in s.partners}


COUNTS = {
    "count_shown": labels.label("stage", "shown"),
    "count_clicked": labels.label("stage", "clicked"),
    "count_contacted": labels.label("stage", "contacted"),
}
TAP_RATE, CONTACT_RATE = _("Tap rate %"), _("Contact rate %")
WITHHELD = _("withheld")
WHY = {
    f"<{n}": _("Fewer than {n}: not shown, so that no one can be singled out").format(n=n),
    "hidden": _("{n} or more, hidden so that a smaller count cannot be worked out from the total").format(n=n),
}


def rate(num: pl.Series, den: pl.Series) -> pl.Series:
    """A rate in percent as text, or 'withheld' where either count is protected (or none was shown)."""
    return (
        pl.DataFrame({"n": num, "d": den})
        .select(
            pl.when(pl.col("n").is_not_null() & (pl.col("d") > 0))
            .then(pl.format("{}%", (pl.col("n") / pl.col("d") * 100).round(1)))
            .otherwise(pl.lit(WITHHELD))
        )
        .to_series()
    )


daily = state.load("referral_daily", snap, f)
st.subheader(_("Day by day"))
if daily["count_events"].sum() == 0:
    st.info(_("No helpline events in this period for these filters. Widen the dates or clear a filter."))
else:
    left, right = st.columns(2)
    for i, (stage, name, unit) in enumerate(
        [
            ("shown", _("Helpline cards shown"), _("Cards shown per day")),
            ("clicked", _("Helpline cards tapped"), _("Taps per day")),
            ("contacted", _("Contacts confirmed by partners"), _("Contacts per day")),
        ]
    ):
        with left if i % 2 == 0 else right:
            widgets.altair_chart(
                charts.daily_lines(
                    daily.filter(pl.col("stage") == stage),
                    "stage",
                    name,
                    unit,
                    labels=labels.labels("stage"),
                    colors=[charts.STAGE_COLORS[i] if i else "#D9803F"],
                    events=charts.campaign_days(s.launch, s.end, s.campaign.events, _("Launch"), _("Campaign end"))
                    + alert_days(
                        {"helpline_taps"}
                        if stage == "clicked"
                        else {"helpline_contacts"}
                        if stage == "contacted"
                        else set(),
                        f,
                    ),
                    today=s.today(),
                    day_title=labels.day_title(),
                    so_far=_("so far"),
                    min_cell=s.privacy.min_cell,
                ),
                width="stretch",
            )


def funnel_table(protected: pl.DataFrame, visible: pl.DataFrame, title: str) -> pl.DataFrame:
    """The funnel as shown and downloaded: protected counts as text, rates in percent where
    both of their counts are shown, 'withheld' otherwise."""
    return protected.select(
        pl.col("segment").alias(title), *[pl.col(c).alias(name) for c, name in COUNTS.items()]
    ).with_columns(
        rate(visible["count_clicked"], visible["count_shown"]).alias(TAP_RATE),
        rate(visible["count_contacted"], visible["count_clicked"]).alias(CONTACT_RATE),
    )


BY = {
    "partner_id": (_("Partner"), _("Funnel by partner"), _("Shown, tapped and contacted by partner")),
    "entry_point": (_("Entry point"), _("Funnel by entry point"), _("Shown, tapped and contacted by entry point")),
    "channel": (_("Channel"), _("Funnel by channel"), _("Shown, tapped and contacted by channel")),
}
for dimension, (title, heading, chart_title) in BY.items():
    st.subheader(heading)
    raw = state.load("referral_funnel", snap, f, dimension)
    if raw.is_empty():
        st.info(_("No helpline events in this period for these filters. Widen the dates or clear a filter."))
        continue
    if dimension == "partner_id":
        raw = raw.with_columns(segment=pl.col("segment").replace(partner_names))
    else:
        raw = raw.with_columns(
            segment=pl.col("segment").replace_strict(labels.labels(dimension), default=pl.col("segment"))
        )
    # each column's total is on the Overview, so small cells get complementary protection
    protected = protect_columns(raw, list(COUNTS), n)
    visible = protected.with_columns(pl.col(c).cast(pl.Int64, strict=False) for c in COUNTS)  # null unless shown
    chart_data = pl.concat(
        [
            protected.select(
                "segment",
                stage=pl.lit(name),
                count=visible[column],
                text=pl.col(column).map_elements(labels.bound(fmt.count_text), return_dtype=pl.String),
            )
            for column, name in COUNTS.items()
        ]
    )
    widgets.altair_chart(
        charts.funnel(
            chart_data,
            chart_title,
            _("Helpline events"),
            list(COUNTS.values()),
            why=WHY,
            segment_title=title,
        ),
        width="stretch",
    )
    table = funnel_table(protected, visible, title)
    st.dataframe(
        table.with_columns(
            pl.col(name).map_elements(labels.bound(fmt.count_text), return_dtype=pl.String) for name in COUNTS.values()
        ),
        hide_index=True,
        column_config={
            TAP_RATE: st.column_config.TextColumn(help=_("Tapped ÷ shown, where both are shown")),
            CONTACT_RATE: st.column_config.TextColumn(help=_("Contacted ÷ tapped, where both are shown")),
        },
    )
    download(table, f"referral_funnel_by_{dimension}", f)
