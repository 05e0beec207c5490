"""A partner's one-page month report as a PNG: its released weeks of the month, charted and
tabled with Altair and rendered by vl-convert (Khmer text shaped with Debian's Khmer OS
fonts). It only lays out released cells; it never adds weeks together."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import altair as alt
import polars as pl
import vl_convert as vlc

from core import labels
from core.labels import _
from dashboard import charts
from queries import partner

KHMER_FONTS = Path("/usr/share/fonts/truetype/khmeros")  # Debian's fonts-khmeros (.ci/setup --browser)
FONT = "Khmer OS"  # one family with Latin and Khmer glyphs: a fallback font would not shape Khmer
NOTE_CHARS = 130  # characters a line of the report's notes: about 760 px at 11 px
KHMER_HASHTAG = "#សុខុមាលភាពផ្លូវចិត្ត"  # "mental well-being"


@cache
def _fonts() -> None:
    if KHMER_FONTS.is_dir():
        vlc.register_font_directory(str(KHMER_FONTS))


def month_chart(
    partner_name: str, campaign: str, month: dt.date, cells: pl.DataFrame, min_cell: int
) -> alt.VConcatChart:
    """The report for the weeks in `cells` (the released weeks whose Thursday is in `month`)."""
    columns = [
        *(partner.measure_name(m) for m in partner.REFERRAL_MEASURES),
        partner.tap_rate_name(),
        partner.contact_rate_name(),
        partner.measure_name(partner.TIP_MEASURE),
    ]
    week_column = _("Week")
    weeks = sorted(set(cells["week_start"]))
    totals = partner.weekly_totals(cells).with_columns(
        pl.col("measure").replace_strict({m: partner.measure_name(m) for m in partner.MEASURES})
    )
    rows = pl.concat(
        [
            partner.table(cells.filter(pl.col("week_start") == w), "total")
            .drop("category", partner.dimension_name("total"))
            .with_columns(
                **{week_column: pl.lit(_week(w))},
                **{c: pl.col(c).cast(pl.String) for c in (partner.tap_rate_name(), partner.contact_rate_name())},
            )
            for w in weeks
        ],
        how="diagonal_relaxed",
    )
    long = rows.unpivot(
        index=week_column, on=[c for c in columns if c in rows.columns], variable_name="column"
    ).with_columns(pl.col("value").fill_null("–"))
    table = (
        alt.Chart(long)
        .mark_text(fontSize=13, font=FONT)
        .encode(
            x=alt.X("column:N", sort=columns, title=None, axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=12)),
            y=alt.Y(f"{week_column}:N", sort=None, title=None, axis=alt.Axis(labelFontSize=12)),
            text="value:N",
        )
        .properties(width=760, height=28 * max(1, len(weeks)))
    )
    chart = charts.weekly_partner_totals(
        totals,
        _("Helpline cards shown, tapped and contacted, per week"),
        [partner.measure_name(m) for m in partner.REFERRAL_MEASURES],
        flat_y_title=True,
    ).properties(width=760)
    notes = [
        _(
            "Counts below {n} read <{n}; 'hidden' is a count of {n} or more "
            "hidden so that a small one cannot be worked out from the week's total."
        ).format(n=min_cell),
        _(
            "Weeks run Monday to Sunday in campaign time and are published, unchanged, a day after "
            "they end. Rates are shown only where both counts are."
        ),
    ]
    # each note in lines that fit the page's 760 px (a Khmer sentence is longer than its English)
    note_lines = [line for note in notes for line in charts._wrap(note, NOTE_CHARS, 6).split("\n")]
    note = (
        alt.Chart(alt.Data(values=[{"line": line, "n": i} for i, line in enumerate(note_lines)]))
        .mark_text(align="left", fontSize=11, color="#555", font=FONT)
        .encode(y=alt.Y("n:O", axis=None, sort=None), text="line:N", x=alt.value(0))
        .properties(width=760, height=20 * len(note_lines))
    )
    return (
        alt.vconcat(chart, table, note, spacing=24)
        .properties(
            title=alt.TitleParams(
                # the partner's own name on a line of its own: vl-convert shapes Khmer only at a line's start
                [partner_name, _("Helpline referrals · {month}").format(month=labels.month_year(month))]
                if labels.language() != labels.SOURCE_LANGUAGE
                else _("{partner} · helpline referrals · {month}").format(
                    partner=partner_name, month=labels.month_year(month)
                ),
                # Khmer on a line of its own: vl-convert shapes a line's Khmer only when it starts the line
                subtitle=[f"{campaign} · #MentalWell-Being", KHMER_HASHTAG],
                anchor="start",
                fontSize=20,
                subtitlePadding=12,
                lineHeight=28,  # a title of two lines (the partner's name, then the rest) clear of the subtitle
                subtitleFontSize=14,
                subtitleLineHeight=26,
                offset=12,
                font=FONT,
                subtitleFont=FONT,
            ),
            padding=24,
            background="white",
        )
        .configure(font=FONT)
        .configure_view(stroke=None)
    )


def _week(w: dt.date) -> str:
    end = w + dt.timedelta(days=6)
    return _("{start} – {end}").format(
        start=_("{day} {month}").format(day=w.day, month=labels.label("month_short", w.month)),
        end=_("{day} {month}").format(day=end.day, month=labels.label("month_short", end.month)),
    )


def png(chart: alt.TopLevelMixin, scale: float = 1.5) -> bytes:
    _fonts()
    return vlc.vegalite_to_png(chart.to_dict(), scale=scale)
