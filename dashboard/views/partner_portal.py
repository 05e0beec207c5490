"""Partner portal: one partner's helpline referrals and tip-video views, from its released
weeks only (queries/partner.py). The partner id comes from the signed-in identity."""

import datetime as dt

import polars as pl
import streamlit as st

from core import labels
from core.labels import _, ngettext
from dashboard import auth, charts, report, state, widgets
from dashboard import format as fmt
from queries import partner

s = state.settings()
me = next(p for p in s.partners if p.id == auth.identity().partner_id)
n = s.privacy.min_cell
snap = state.snapshot_id()

st.title(_("Your referrals · {partner}").format(partner=me.name))
st.caption(
    _(
        "Figures come in whole weeks, Monday to Sunday in campaign time, published a day after the week ends and "
        "never changed afterwards. Counts below {n} read <{n}; 'hidden' is a count of {n} or more, hidden so that "
        "a small one cannot be worked out from the week's total."
    ).format(n=n)
)

weeks = state.load_partner("released_weeks", snap, me.id)
if not weeks:
    st.info(
        _(
            "No week has been published for your organisation yet. A week is published a day after it ends "
            "(Sunday midnight, campaign time); please check back then."
        ),
        icon=":material/hourglass_empty:",
    )
    st.stop()
present = state.load_partner("present_categories", snap, me.id)
week, by, only = state.partner_view(weeks, present)
cells = state.load_partner("cells", snap, me.id, sorted(weeks), n)
week_cells = cells.filter(pl.col("week_start") == week)
period = f"{week.isoformat()}_{(week + dt.timedelta(days=6)).isoformat()}"  # in file names: which week made it


@st.cache_data(show_spinner=False, max_entries=64)
def month_png(partner_id: str, snapshot: str | None, month: dt.date, words: str) -> bytes:
    """The month's PNG, drawn once per partner, snapshot, month and language (`words`: the
    session's language and digits; the report is in the partner's language)."""
    month_weeks = partner.weeks_in_month(weeks, month)
    chart = report.month_chart(me.name, s.name, month, cells.filter(pl.col("week_start").is_in(month_weeks)), n)
    return report.png(chart)


# --- the week at a glance --------------------------------------------------------------
totals = partner.weekly_totals(cells)
this = {r["measure"]: r for r in totals.filter(pl.col("week_start") == week).iter_rows(named=True)}
earlier = [w for w in weeks if w < week]
before = (
    {r["measure"]: r for r in totals.filter(pl.col("week_start") == earlier[0]).iter_rows(named=True)}
    if earlier
    else {}
)


def tile(column, measure: str, help: str, rate: tuple[str, str] | None = None) -> None:
    now, prev = this[measure], before.get(measure, {})
    delta = fmt.change(now["value"], prev.get("value")) if now["value"] is not None else None
    caption = None
    if rate:
        num, den = this[rate[0]]["value"], this[rate[1]]["value"]
        caption = (
            _("{rate} of {measure}").format(rate=fmt.pct(num, den), measure=partner.measure_name(rate[1]).lower())
            if num and den
            else None
        )
    column.metric(
        partner.measure_name(measure),
        now["text"],
        delta=_("{change} vs week before").format(change=delta) if delta else None,
        help=help,
        border=True,
    )
    if caption:
        column.caption(caption)


st.subheader(_("Week of {week}").format(week=state.week_label(week)))
a, b, c, d = st.columns(4)
tile(a, "shown", _("Times your helpline card was shown to someone in the app."))
tile(b, "clicked", _("Taps on your helpline card (tap rate = tapped ÷ shown)."), ("clicked", "shown"))
tile(
    c,
    "contacted",
    _("Confirmed contacts with your helpline (contact rate = contacted ÷ tapped)."),
    ("contacted", "clicked"),
)
tile(d, "tip_video_views", _("Views of the tip videos made with your organisation."))

stages = [partner.measure_name(m) for m in partner.REFERRAL_MEASURES]
widgets.altair_chart(
    charts.funnel(
        totals.sort("week_start")
        .with_columns(pl.col("measure").replace_strict({m: partner.measure_name(m) for m in partner.MEASURES}))
        .filter(pl.col("measure").is_in(stages))
        .select(
            segment=pl.col("week_start").map_elements(labels.bound(state.week_label), return_dtype=pl.String),
            stage="measure",
            count="value",
            text=pl.col("text").map_elements(labels.bound(fmt.count_text), return_dtype=pl.String),
        ),
        _("Shown, tapped and contacted per week"),
        _("Events in the week"),
        stages,
        why={
            f"<{n}": _("Fewer than {n}: not shown, so that no one can be singled out").format(n=n),
            "hidden": _(
                "{n} or more, hidden so that a smaller count cannot be worked out from the week's total"
            ).format(n=n),
        },
        segment_title=_("Week"),
    ),
    width="stretch",
)

# --- breakdown ------------------------------------------------------------------------
name = partner.dimension_name(by)
st.subheader(_("By {breakdown}").format(breakdown=name.lower()))
table = partner.table(week_cells, by)
measure_columns = [c for c in table.columns if c in {partner.measure_name(m) for m in partner.MEASURES}]
withheld = [c for c in measure_columns if (table[c] == "withheld").all()]
if only:
    table = table.filter(pl.col("category").is_in(only))
table = table.drop(withheld)
kept = [c for c in measure_columns if c not in withheld]
all_small = pl.all_horizontal([pl.col(c) == f"<{n}" for c in kept]) if kept else pl.lit(True)
listed = table if only else table.filter(~all_small)
if withheld:
    st.caption(
        _(
            "{measures}: not broken down by {breakdown} this week: too few to break down without "
            "revealing a small count."
        ).format(measures=", ".join(withheld), breakdown=name.lower())
    )
if kept and not listed.is_empty():
    rates = [c for c in (partner.tap_rate_name(), partner.contact_rate_name()) if c in listed.columns]
    listed = listed.drop("category", *[c for c in rates if listed[c].is_null().all()])
    st.dataframe(
        listed.with_columns(
            pl.col(c).map_elements(labels.bound(fmt.percent), return_dtype=pl.String).fill_null("–")
            for c in rates
            if c in listed.columns
        ),
        hide_index=True,
        width="stretch",
    )
    widgets.export_button(
        listed,
        f"pulse-{me.id}-{by.replace('_', '-')}-{period}{''.join('-' + v for v in only)}.csv",
        _("Download this table (CSV)"),
    )
quiet = table.height - listed.height
if kept and quiet:
    st.caption(
        ngettext(
            "{count} {breakdown} value with fewer than {n} in every column is not listed.",
            "{count} {breakdown} values with fewer than {n} in every column are not listed.",
            quiet,
        ).format(count=quiet, breakdown=name.lower(), n=n)
    )

# --- downloads ------------------------------------------------------------------------
st.subheader(_("Reports"))
left, right = st.columns(2)
with left:
    full = partner.report_from_cells(week_cells, me.name)
    widgets.export_button(
        full,
        f"pulse-{me.id}-week-{period}.csv",
        _("Every figure of this week (CSV)"),
    )
with right:
    months = sorted({(w + dt.timedelta(days=3)).replace(day=1) for w in weeks}, reverse=True)
    month = st.selectbox(_("Month report"), months, format_func=labels.month_year, key="p_month")
    png = month_png(me.id, snap, month, state.words())
    widgets.export_button(
        png,
        f"{me.id}_{month:%Y-%m}.png",
        _("Month report, {month} (PNG)").format(month=labels.month_year(month)),
        mime="image/png",
    )
