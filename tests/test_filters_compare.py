"""What a page's period is compared with (queries/filters.py), and what its CSV files are called."""

from __future__ import annotations

import datetime as dt

import pytest

from queries.filters import Filters, compare

D = dt.date
LAUNCH = D(2026, 10, 10)
FIRST = D(2026, 8, 18)  # the data's first day, 53 days before launch
TODAY = D(2026, 11, 30)


def test_previous_period_of_equal_length_after_launch() -> None:
    c = compare(Filters(D(2026, 11, 1), D(2026, 11, 7)), "previous", LAUNCH, TODAY, FIRST)
    assert (c.current, c.baseline) == (
        Filters(D(2026, 11, 1), D(2026, 11, 7)),
        Filters(D(2026, 10, 25), D(2026, 10, 31)),
    )
    assert c.withheld is None
    assert c.sentence == "compared with the 7 days before (25 Oct – 31 Oct 2026)"
    assert c.change(110, 100) == "+10.0%"


def test_one_day_reads_the_day_before() -> None:
    c = compare(Filters(D(2026, 11, 3), D(2026, 11, 3)), "previous", LAUNCH, TODAY, FIRST)
    assert c.baseline == Filters(D(2026, 11, 2), D(2026, 11, 2))
    assert c.sentence == "compared with the day before (02 Nov 2026)"


def test_previous_period_before_launch_is_said_in_words_not_a_percentage() -> None:
    c = compare(Filters(LAUNCH, D(2026, 11, 29)), "previous", LAUNCH, TODAY, FIRST)
    assert c.change(1000, 10) is None
    assert c.withheld == (
        "Changes are not shown: the 51 days before this period (20 Aug – 09 Oct 2026) lie before the launch "
        "on 10 Oct 2026, when the campaign had not started. Compare with the pre-launch daily average instead."
    )


def test_partial_today_is_never_compared_as_if_complete() -> None:
    c = compare(Filters(D(2026, 11, 24), TODAY), "previous", LAUNCH, TODAY, FIRST)
    # the complete days 24-29 Nov against the 6 days before them; today (so far) is left out
    assert c.current == Filters(D(2026, 11, 24), D(2026, 11, 29))
    assert c.baseline == Filters(D(2026, 11, 18), D(2026, 11, 23))
    assert c.sentence == (
        "change over the 6 complete days (24 Nov – 29 Nov 2026) compared with the 6 days before "
        "(18 Nov – 23 Nov 2026); today, 30 Nov, counts so far and is not compared"
    )


def test_today_alone_is_not_compared() -> None:
    c = compare(Filters(TODAY, TODAY), "previous", LAUNCH, TODAY, FIRST)
    assert c.baseline is None and c.change(5, 1) is None
    assert c.withheld == "Today is not over: its figures count so far and are not compared with a complete day."


def test_same_days_last_week() -> None:
    c = compare(Filters(D(2026, 11, 16), D(2026, 11, 18)), "last_week", LAUNCH, TODAY, FIRST)
    assert c.baseline == Filters(D(2026, 11, 9), D(2026, 11, 11))
    assert c.sentence == "compared with the same days last week (09 Nov – 11 Nov 2026)"


def test_pre_launch_daily_average_compares_per_day() -> None:
    c = compare(Filters(D(2026, 11, 1), D(2026, 11, 10)), "prelaunch", LAUNCH, TODAY, FIRST)
    assert c.baseline == Filters(FIRST, D(2026, 10, 9))  # 53 days
    assert c.per_day
    # 100 a day now against 2 a day before launch
    assert c.change(1000, 106) == "+4900.0%"
    assert c.sentence == "per day, compared with the daily average before launch (18 Aug – 09 Oct 2026)"


def test_pre_launch_without_data_before_launch() -> None:
    c = compare(Filters(D(2026, 11, 1), D(2026, 11, 10)), "prelaunch", LAUNCH, TODAY, LAUNCH)
    assert c.baseline is None
    assert c.withheld == "Changes are not shown: there is no data from before the launch on 10 Oct 2026."


def test_no_comparison() -> None:
    c = compare(Filters(D(2026, 11, 1), D(2026, 11, 10)), "none", LAUNCH, TODAY, FIRST)
    assert c.baseline is None and c.withheld is None and c.sentence == "" and c.change(5, 1) is None


def test_baseline_before_the_first_day_of_data() -> None:
    c = compare(Filters(D(2026, 8, 20), D(2026, 8, 29)), "previous", LAUNCH, TODAY, FIRST)
    assert c.change(5, 1) is None
    assert c.withheld == "Changes are not shown: the data starts on 18 Aug 2026, inside the 10 days before this period."


@pytest.mark.parametrize(
    ("f", "name"),
    [
        (Filters(D(2026, 10, 10), D(2026, 11, 30)), "pulse-audience-2026-10-10_2026-11-30.csv"),
        (
            Filters(D(2026, 10, 10), D(2026, 11, 30), ("KH-17",), ("18-24",)),
            "pulse-audience-2026-10-10_2026-11-30-KH-17-18-24.csv",
        ),
        (
            Filters(D(2026, 10, 10), D(2026, 10, 10), ("KH-12", "KH-17"), (), ("km",)),
            "pulse-audience-2026-10-10_2026-10-10-KH-12-KH-17-km.csv",
        ),
    ],
)
def test_file_names_say_the_filters(f: Filters, name: str) -> None:
    assert f.file_name("audience") == name
