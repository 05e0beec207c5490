"""The charts as Vega-Lite specs (dashboard/charts.py is pure): scales, sizes, marks and the
words they carry, checked on `to_dict()` without Streamlit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from dashboard import charts

LAUNCH = dt.date(2026, 10, 10)
EVENTS = [(LAUNCH, "Launch"), (dt.date(2026, 10, 20), "TV spot"), (dt.date(2027, 1, 5), "Out of range")]


def walk(spec: Any):
    """Every dict inside a spec, depth first."""
    if isinstance(spec, dict):
        yield spec
        for v in spec.values():
            yield from walk(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from walk(v)


def marks(spec: dict) -> list[dict]:
    """The unit views (those with a mark) of a spec."""
    return [d for d in walk(spec) if "mark" in d]


def mark_type(view: dict) -> str:
    m = view["mark"]
    return m if isinstance(m, str) else m["type"]


def data_of(spec: dict, view: dict) -> list[dict]:
    """The rows a view draws (its own dataset, else the top level's), after simple filters
    are ignored: enough for the fixtures here."""
    name = (view.get("data") or spec.get("data") or {}).get("name")
    return spec["datasets"][name] if name else []


def test_bars_are_sized_by_their_number_and_fit_the_width() -> None:
    df = pl.DataFrame({"segment": ["18-24", "25-34", "35-44", "45-54", "55+", "Unknown"], "n": [9, 8, 7, 6, 5, 4]})
    spec = charts.bars(df, "segment", "n", "Unique reach by age band", "People reached").to_dict()
    assert spec["height"] == 6 * charts.BAR_STEP and charts.BAR_STEP * (1 - charts.BAR_PADDING) >= 18
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}  # height is the plot's, width the page's
    assert "width" not in spec
    bar = next(v for v in marks(spec) if mark_type(v) == "bar")
    assert bar["mark"]["height"] == {"band": 1}  # not Streamlit's default 0.85 of the band
    assert bar["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert bar["encoding"]["x"]["scale"]["type"] == "linear"
    text = next(v for v in marks(spec) if mark_type(v) == "text")
    assert text["encoding"]["text"]["field"] == "shown"
    one = pl.DataFrame({"segment": ["Arom Station"], "n": [4]})
    assert charts.bars(one, "segment", "n", "t", "Views").to_dict()["height"] == charts.BAR_STEP
    # a label over two lines gets a taller step, so that it cannot run into its neighbour's
    two = pl.DataFrame({"segment": ["Transcultural Psychosocial Organization Cambodia", "Arom Station"], "n": [2, 1]})
    assert charts.bars(two, "segment", "n", "t", "Views").to_dict()["height"] == 2 * charts.BAR_STEP_WRAPPED
    assert charts.BAR_STEP_WRAPPED - 2 * 13 >= 10  # two 13 px lines, and a gap


def test_a_hidden_bar_is_an_outlined_placeholder_that_says_why() -> None:
    df = pl.DataFrame({"segment": ["Phnom Penh", "Kep"], "n": [1234, None], "text": ["1,234", "<10"]})
    spec = charts.bars(
        df, "segment", "n", "Unique reach", "People reached", text="text", why={"<10": "Fewer than 10: not shown"}
    ).to_dict()
    bars = [v for v in marks(spec) if mark_type(v) == "bar"]
    placeholder = next(v for v in bars if v["mark"].get("strokeDash"))
    assert placeholder["mark"]["fillOpacity"] == 0 and placeholder["encoding"]["x2"] == {"value": charts.PLACEHOLDER_PX}
    rows = {r["segment"]: r for r in data_of(spec, placeholder)}
    assert rows["Kep"]["shown"] == "<10" and rows["Kep"]["why"] == "Fewer than 10: not shown"
    assert rows["Phnom Penh"]["shown"] == "1,234"


def test_funnel_is_linear_one_chart_with_counts_and_no_fixed_width() -> None:
    long = pl.DataFrame(
        {
            "segment": ["Arom Station"] * 3 + ["Transcultural Psychosocial Organization Cambodia"] * 3,
            "stage": ["Shown", "Tapped", "Contacted"] * 2,
            "count": [2088, 410, 82, 12, None, None],
            "text": ["2,088", "410", "82", "12", "<10", "hidden"],
        }
    )
    spec = charts.funnel(
        long, "Shown, tapped and contacted by partner", "Helpline events", ["Shown", "Tapped", "Contacted"]
    ).to_dict()
    assert "facet" not in spec and "width" not in spec
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    scales = [d["scale"]["type"] for d in walk(spec) if isinstance(d.get("scale"), dict) and "type" in d["scale"]]
    assert scales and set(scales) == {"linear"}
    assert spec["height"] == 2 * 3 * charts.BAR_STEP
    assert any(mark_type(v) == "text" and v["encoding"]["text"]["field"] == "shown" for v in marks(spec))
    assert any(mark_type(v) == "bar" and v["mark"].get("strokeDash") for v in marks(spec))
    assert all(d["orient"] == "bottom" for d in walk(spec) if "orient" in d and "columns" in d)
    # a long title and a long partner name are wrapped over lines instead of cut at the edge
    assert spec["layer"][0]["title"]["text"] == ["Shown, tapped and contacted by partner"]
    long_title = charts.funnel(long, "Helpline cards shown, tapped and contacted, every published week", "n", ["Shown"])
    assert long_title.to_dict()["layer"][0]["title"]["text"] == [
        "Helpline cards shown, tapped and contacted,",
        "every published week",
    ]
    label = next(d for d in walk(spec) if "labelExpr" in d)
    assert "split" in label["labelExpr"]


def daily(days: list[dt.date], counts: list[int], series: str = "views") -> pl.DataFrame:
    return pl.DataFrame({"day": days, "series": [series] * len(days), "count_events": counts})


def test_daily_lines_carry_their_unit_integer_ticks_events_and_the_partial_day() -> None:
    days = [dt.date(2026, 10, 9) + dt.timedelta(days=i) for i in range(14)]
    today = days[-1]
    spec = charts.daily_lines(
        daily(days, [0, 1, 2, 2, 1, 0, 1, 2, 1, 1, 2, 0, 1, 0]),
        "series",
        "Views of campaign videos",
        "Views per day",
        labels={"views": "Views"},
        events=EVENTS,
        today=today,
        day_title="Campaign day (ICT)",
    ).to_dict()
    ys = [v["encoding"]["y"] for v in marks(spec) if v.get("encoding", {}).get("y", {}).get("field") == "count_events"]
    assert {y["title"] for y in ys if "title" in y} == {"Views per day"}
    axis = next(y["axis"] for y in ys if "axis" in y)
    assert axis["tickMinStep"] == 1 and axis["format"] == ",d"
    assert all(y.get("scale", {}).get("type", "linear") == "linear" for y in ys)
    # the partial day: a dashed segment from yesterday to today, and the words "so far"
    dashed = [v for v in marks(spec) if mark_type(v) == "line" and v["mark"].get("strokeDash")]
    assert len(dashed) == 1
    assert sorted(r["day"][:10] for r in data_of(spec, dashed[0])) == ["2026-10-21", "2026-10-22"]
    solid = next(v for v in marks(spec) if mark_type(v) == "line" and not v["mark"].get("strokeDash"))
    assert max(r["day"][:10] for r in data_of(spec, solid)) == "2026-10-21"
    texts = [r.get("label") for v in marks(spec) if mark_type(v) == "text" for r in data_of(spec, v)]
    assert "so far" in texts
    # every configured date inside the period is marked with its label; others are not
    rules = [v for v in marks(spec) if mark_type(v) == "rule"]
    assert len(rules) == 1
    assert [(r["day"][:10], r["label"]) for r in data_of(spec, rules[0])] == [
        ("2026-10-10", "Launch"),
        ("2026-10-20", "TV spot"),
    ]
    assert "Launch" in texts and "TV spot" in texts and "Out of range" not in texts


@pytest.mark.parametrize("min_cell", [None, 10])
def test_so_far_sits_above_the_plot_clear_of_every_point(min_cell: int | None) -> None:
    """Next to today's point, "so far" touched it (and other series' points and today's dashed
    lines can be anywhere near it): it is written above the plot, ending over today."""
    days = [dt.date(2026, 10, 9) + dt.timedelta(days=i) for i in range(5)]
    df = pl.concat([daily(days, [3, 4, 5, 6, 7], "hub_visit"), daily(days, [1, 0, 2, 9, 3], "guide_view")])
    spec = charts.daily_lines(df, "series", "t", "n", today=days[-1], so_far="so far", min_cell=min_cell).to_dict()
    label = next(
        v for v in marks(spec) if mark_type(v) == "text" and "so far" in [r.get("label") for r in data_of(spec, v)]
    )
    assert label["encoding"]["y"] == {"value": 0}  # the top of the plot, in pixels
    assert (label["mark"]["baseline"], label["mark"]["align"]) == ("bottom", "right")
    assert label["mark"]["dy"] <= -charts.SO_FAR_GAP_PX < 0 and label["mark"].get("dx", 0) == 0
    assert [r["day"][:10] for r in data_of(spec, label)] == ["2026-10-13"]


def test_a_period_that_ends_before_today_has_no_partial_day() -> None:
    days = [dt.date(2026, 10, 9) + dt.timedelta(days=i) for i in range(5)]
    spec = charts.daily_lines(
        daily(days, [3, 4, 5, 6, 7]), "series", "t", "Reports per day", events=[], today=dt.date(2026, 11, 1)
    ).to_dict()
    assert not [v for v in marks(spec) if mark_type(v) == "line" and v["mark"].get("strokeDash")]


def test_several_series_put_their_legend_below_in_columns() -> None:
    days = [dt.date(2026, 10, 12), dt.date(2026, 10, 13)]
    df = pl.concat([daily(days, [1, 2], "hub_visit"), daily(days, [3, 4], "guide_view")])
    spec = charts.daily_lines(
        df, "series", "Hub use per day", "Events per day", labels={"hub_visit": "Hub visits"}, events=[], today=days[-1]
    ).to_dict()
    legends = [d["legend"] for d in walk(spec) if isinstance(d.get("legend"), dict)]
    assert legends and all(lg["orient"] == "bottom" and lg["columns"] == 2 for lg in legends)
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}


def test_weekly_rhythm_labels_all_seven_days_by_name() -> None:
    df = pl.DataFrame({"day_of_week": [1, 4, 7], "hour": [0, 12, 23], "count_events": [5, 6, 7]})
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    spec = charts.weekly_rhythm(df, "When people engage", "Hour of day (ICT)", "Events", names).to_dict()
    rect = next(v for v in marks(spec) if mark_type(v) == "rect")
    y = rect["encoding"]["y"]
    assert y["sort"] == names and y["axis"]["labelOverlap"] is False
    assert y["scale"]["domain"] == names  # days without events still get their row and label
    assert spec["height"] == 7 * charts.HEAT_STEP and charts.HEAT_STEP >= 18
    assert rect["encoding"]["color"]["legend"]["orient"] == "bottom"


def test_campaign_days_from_the_config() -> None:
    from core.settings import CampaignEvent

    events = (
        CampaignEvent(date=dt.date(2026, 10, 10), label="Launch"),
        CampaignEvent(date=dt.date(2026, 11, 1), label="School visits"),
    )
    assert charts.campaign_days(LAUNCH, None, events) == [(LAUNCH, "Launch"), (dt.date(2026, 11, 1), "School visits")]
    assert charts.campaign_days(LAUNCH, dt.date(2027, 1, 31), ()) == [
        (LAUNCH, "Launch"),
        (dt.date(2027, 1, 31), "Campaign end"),
    ]


def test_province_tiles_place_all_25_and_hide_small_cells() -> None:
    df = pl.DataFrame({"province": ["KH-12", "KH-23"], "count": [5173, None], "text": ["5,173", "<10"]})
    spec = charts.province_tiles(
        df, "Unique reach by province", "People reached", why={"<10": "Fewer than 10"}
    ).to_dict()
    rect = next(v for v in marks(spec) if mark_type(v) == "rect")
    rows = {r["province"]: r for r in data_of(spec, rect)}
    assert len(rows) == 25 and len({(r["col"], r["row"]) for r in rows.values()}) == 25
    assert rows["KH-12"]["count"] == 5173 and rows["KH-12"]["shown"] == "5,173"
    # the small cell has no colour value and says why; a province without data says so
    assert (
        rows["KH-23"]["count"] is None and rows["KH-23"]["shown"] == "<10" and rows["KH-23"]["why"] == "Fewer than 10"
    )
    assert rows["KH-1"]["count"] == 0 and rows["KH-1"]["shown"] == "0"
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert rect["encoding"]["color"]["scale"]["domain"] == [0, 5173]


def test_province_tiles_grey_out_provinces_outside_the_filter() -> None:
    df = pl.DataFrame({"province": ["KH-24"], "count": [None], "text": ["<10"]}, schema_overrides={"count": pl.Int64})
    spec = charts.province_tiles(df, "t", "People reached", selected=["KH-23", "KH-24"]).to_dict()
    rows = {r["province"]: r for r in data_of(spec, next(v for v in marks(spec) if mark_type(v) == "rect"))}
    assert (rows["KH-24"]["shown"], rows["KH-24"]["hidden"], rows["KH-24"]["out"]) == ("<10", True, False)
    assert (rows["KH-23"]["shown"], rows["KH-23"]["count"], rows["KH-23"]["out"]) == ("0", 0, False)
    assert (rows["KH-12"]["shown"], rows["KH-12"]["count"], rows["KH-12"]["why"]) == ("", None, "Not in the filter")
    assert rows["KH-12"]["out"] is True and rows["KH-12"]["hidden"] is False


def test_daily_lines_with_min_cell_hold_no_small_count() -> None:
    """On a policy page a day's count below min_cell leaves the server as '<10' only, as in its
    table and CSV: null in every dataset of the chart, drawn as a marked point in the band below 10."""
    days = [dt.date(2026, 10, 12) + dt.timedelta(days=i) for i in range(4)]
    spec = charts.daily_lines(
        daily(days, [0, 3, 42, 9]), "series", "Contacts", "Contacts per day", events=[], min_cell=10
    ).to_dict()
    values = [r.get("count_events") for rows in spec["datasets"].values() for r in rows]
    assert sorted(v for v in values if v is not None) == [0, 42]
    small = [r for rows in spec["datasets"].values() for r in rows if r.get("shown") == "<10"]
    assert sorted({r["day"][:10] for r in small}) == ["2026-10-13", "2026-10-15"]
    assert {r["count_events"] for r in small} == {None}
    assert any(mark_type(v) == "point" and not v["mark"].get("filled", True) for v in marks(spec))
