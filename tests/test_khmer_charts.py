"""Issue 15, charts and the month report in Khmer: the Vega-Lite config of a Khmer chart (Khmer
OS font, CLDR month names, Khmer numerals on request), English charts unchanged, and the
partner's month PNG laid out so vl-convert shapes its Khmer (each Khmer line starts its line;
no rotated Khmer title)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from core import labels
from dashboard import charts, report

TOTALS = pl.DataFrame({"week_start": [dt.date(2026, 10, 12)], "measure": ["Shown"], "value": [12], "text": ["12"]})


def test_an_english_chart_is_as_before() -> None:
    chart = charts.weekly_partner_totals(TOTALS, "t", ["Shown"])
    assert charts.in_language(chart, "en").to_dict() == chart.to_dict()
    assert charts.language_config("en") == {}


def test_a_khmer_chart_has_a_khmer_font_month_names_and_digits() -> None:
    config = charts.in_language(charts.weekly_partner_totals(TOTALS, "t", ["Shown"]), "km", True).to_dict()["config"]
    assert config["font"] == '"Khmer OS System", "Khmer OS", sans-serif'
    assert config["locale"]["time"]["shortMonths"][9] == "តុលា"
    assert config["locale"]["time"]["days"][0] == "អាទិត្យ"  # d3's week starts on Sunday
    assert config["locale"]["number"]["numerals"] == list("០១២៣៤៥៦៧៨៩")
    assert "numerals" not in charts.language_config("km")["locale"]["number"]


def test_week_labels_of_the_partner_chart_are_in_the_language() -> None:
    token = labels.use("km")
    try:
        chart = charts.weekly_partner_totals(TOTALS, "t", ["Shown"])
    finally:
        labels.reset(token)
    assert chart.data["week"].to_list() == ["12 តុលា"]


def test_the_month_report_in_khmer_starts_each_khmer_line_on_its_own(tmp_path) -> None:
    from queries import pages, partner
    from tests.dashboard_fixtures import build

    d = build(tmp_path / "data")
    with pages.reader(d) as con:
        weeks = partner.released_weeks(con, "tpo-cambodia")
        cells = partner.cells(con, "tpo-cambodia", sorted(weeks), 10)
    token = labels.use("km")
    try:
        month_weeks = partner.weeks_in_month(weeks, dt.date(2026, 10, 1))
        chart = report.month_chart(
            "TPO Cambodia", "Mental Well-Being Comes First", dt.date(2026, 10, 1),
            cells.filter(pl.col("week_start").is_in(month_weeks)), 10,
        )  # fmt: skip
        spec = chart.to_dict()
        assert report.png(chart)[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        labels.reset(token)
    assert spec["title"]["text"] == ["TPO Cambodia", "ការបញ្ជូនទៅខ្សែទូរស័ព្ទជំនួយ · ខែតុលា ឆ្នាំ2026"]
    y = spec["vconcat"][0]["layer"][0]["encoding"]["y"]["axis"]
    assert y["titleAngle"] == 0
    notes = [v["line"] for v in spec["vconcat"][2]["data"]["values"]]
    assert len(notes) == 4 and all(len(line) <= report.NOTE_CHARS for line in notes)
