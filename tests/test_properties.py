"""Property tests (Hypothesis) for the parsers and the privacy rule."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sqlfiles import sql
from queries.privacy import suppress


@given(
    counts=st.lists(st.integers(min_value=0, max_value=2_000_000_000 - 1), min_size=1, max_size=30),
    min_cell=st.integers(min_value=2, max_value=50),
)
def test_no_count_below_min_cell_is_ever_shown(counts: list[int], min_cell: int) -> None:
    df = pl.DataFrame({"n": counts}).with_columns(pl.col("n").alias("m"))
    plain = suppress(df, ["n"], min_cell)["n"].to_list()
    pretty = suppress(df.filter(pl.col("m") < 1_000_000_000), ["n"], min_cell, thousands=True)["n"].to_list()
    for value, shown in zip(counts, plain, strict=True):
        if 0 < value < min_cell:
            assert shown == f"<{min_cell}"
        else:
            assert shown == str(value)
    small = [v for v in counts if v < 1_000_000_000]
    for value, shown in zip(small, pretty, strict=True):
        assert shown == (f"<{min_cell}" if 0 < value < min_cell else f"{value:,}")


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("set TimeZone = 'UTC'")
    c.execute(sql("macros", "pipelines"))
    yield c
    c.close()


aware = st.datetimes(
    min_value=dt.datetime(1990, 1, 1),
    max_value=dt.datetime(2090, 12, 31),
    timezones=st.sampled_from(
        [dt.UTC, dt.timezone(dt.timedelta(hours=7)), dt.timezone(dt.timedelta(hours=-5, minutes=-30))]
    ),
).map(lambda t: t.replace(microsecond=0))


@settings(max_examples=200, deadline=None)
@given(moment=aware, shape=st.sampled_from(["z", "offset", "offset_nocolon", "naive_utc", "epoch"]))
def test_every_timestamp_shape_parses_to_the_same_instant(con, moment: dt.datetime, shape: str) -> None:
    utc = moment.astimezone(dt.UTC)
    text = {
        "z": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "offset": moment.isoformat(),
        "offset_nocolon": moment.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "naive_utc": utc.strftime("%Y-%m-%d %H:%M:%S"),
        "epoch": str(int(utc.timestamp())),
    }[shape]
    if shape == "epoch" and not 9 <= len(text) <= 11:
        return  # epoch seconds are 9 to 11 digits for these years
    (parsed,) = con.execute("select epoch(parse_time($t))", {"t": text}).fetchall()[0]
    assert parsed == utc.timestamp(), text


@given(text=st.text(max_size=30))
def test_parse_time_never_raises_and_rejects_bare_dates(con, text: str) -> None:
    con.execute("select parse_time($t)", {"t": text}).fetchall()
    (bare,) = con.execute("select parse_time('2026-10-10')").fetchall()[0]
    assert bare is None
