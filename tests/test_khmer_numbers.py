"""Issue 15, numbers and dates the Khmer way: Babel's `km` data for grouping, Khmer month and
weekday names (the catalog's, checked against CLDR's), Khmer digits with `?digits=khmer`,
"<10" and percentages written alike in both languages, and English unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from babel import Locale

from core import labels
from dashboard import format as fmt
from queries.filters import span

TZ = ZoneInfo("Asia/Phnom_Penh")


@pytest.fixture
def khmer() -> Iterator[None]:
    token = labels.use("km")
    yield
    labels.reset(token)
    labels.use_digits(False)


def test_english_is_as_before() -> None:
    assert (fmt.count(1234567), fmt.pct(1, 8), fmt.change(3, 2), fmt.change(1, 2)) == (
        "1,234,567", "12.5%", "+50.0%", "-50.0%"
    )  # fmt: skip
    assert fmt.count_text("<10") == "<10" and fmt.count_text("12345") == "12,345"
    assert labels.campaign_date(dt.date(2026, 12, 1)) == "1 Dec 2026"
    assert span(dt.date(2026, 10, 25), dt.date(2026, 10, 31)) == "25 Oct – 31 Oct 2026"


def test_khmer_words_latin_digits(khmer) -> None:
    assert fmt.count(1234567) == "1,234,567"  # CLDR km groups by three with ','
    assert fmt.pct(1, 8) == "12.5%" and fmt.change(3, 2) == "+50.0%"
    assert labels.campaign_date(dt.date(2026, 12, 1)) == "1 ធ្នូ 2026"
    assert labels.month_year(dt.date(2026, 10, 1)) == "ខែតុលា ឆ្នាំ2026"
    assert labels.campaign_time(dt.datetime(2026, 12, 1, 7, 5, tzinfo=dt.UTC), TZ) == "1 ធ្នូ 2026, ម៉ោង 14:05 ICT"


def test_khmer_digits(khmer) -> None:
    labels.use_digits(True)
    assert fmt.count(1234567) == "១,២៣៤,៥៦៧"
    assert fmt.pct(1, 8) == "១២.៥%" and fmt.change(1, 2) == "-៥០.០%"
    assert fmt.count_text("<10") == "<១០" and fmt.count_text("hidden") == "hidden"
    assert labels.campaign_date(dt.date(2026, 12, 1)) == "១ ធ្នូ ២០២៦"
    assert span(dt.date(2026, 10, 25), dt.date(2026, 10, 31)) == "២៥ តុលា – ៣១ តុលា ២០២៦"


def test_the_catalogs_month_and_weekday_names_are_cldrs() -> None:
    km = Locale.parse("km")
    token = labels.use("km")
    try:
        assert [labels.label("month", m) for m in range(1, 13)] == [
            km.months["format"]["wide"][m] for m in range(1, 13)
        ]
        assert [labels.label("weekday_short", d) for d in range(1, 8)] == [
            km.days["format"]["abbreviated"][d - 1] for d in range(1, 8)
        ]
    finally:
        labels.reset(token)
