"""No value that passes validation may break a later step (issue 14, point 1).

Hypothesis writes random landing files of every format, with odd timestamps, numbers,
Unicode, empty and huge values and odd column sets, and runs the real refresh on them
(`pipelines.refresh.refresh`: discovery, staging, validation, marts, partner releases, publish; without
Prefect), twice, so the incremental mart build runs too. Then the page queries and
`pulse status` read the result. Whatever the files hold: no exception escapes, every
stream's read = loaded + duplicates + quarantined, the published days lie between
`validation.earliest` and tomorrow, and no raw user id is anywhere under the data dir but
the landing zone: not in a file's bytes, a table, the quarantine or a log line.

Bounded for CI: 25 examples, derandomized and without an example database, so every run
tries the same files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core import reference as ref
from core.datadir import DataDir
from core.settings import Settings
from pipelines.read import COLUMNS
from pipelines.refresh import refresh
from queries import pages as q
from queries.filters import Filters
from queries.status import snapshot_status
from queries.warehouse import published
from tests.warehouse_edit import stored_databases

SETTINGS = Settings()
NOW = dt.datetime(2026, 10, 13, 3, 0, tzinfo=dt.UTC)  # three days after launch: few weeks to release
MARKER = "RAWID"  # every raw user id contains it, nothing else does
EXTS = ["csv", "csv.gz", "jsonl", "ndjson", "jsonl.gz", "parquet"]

ODD_TIMES = [
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "1900-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "1999-12-31T16:59:59Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-14:00",
    "0000-01-01T00:00:00+14:00",
    "-1",
    "-62167219200",
    "0",
    "100000000",
    "99999999999",
    "99999999999.999999999",
    "253402300800",
    "999999999999999999999",
    "1760097600.123456789",
    "1760097600.",
    ".5",
    "1e9",
    "2026-10-10T12:00:00+14:00",
    "2026-10-10T12:00:00-12:59",
    "2026-10-10T12:00:00+99:99",
    "2026-10-10T12:00:00+2400",
    "2026-02-30T00:00:00Z",
    "2026-10-10T24:00:00Z",
    "2026-10-10T23:59:60Z",
    "2026-10-10 12:00",
    "2026-10-10T12:00:00.1234567890Z",
    "2026-10-10T12:00:00.123456789z",
    "2026-10-10",
    "NaN",
    "now",
    "2026-10-10T12:00:00Zjunk",
    "２０２６-10-10T12:00:00Z",  # full-width digits
]
ODD_NUMBERS = [
    "-0",
    "0",
    "007",
    "1e3",
    "1e308",
    "NaN",
    "inf",
    "-1",
    "0.5",
    "1.0",
    "1,000",
    " 12 ",
    "٣",
    "18446744073709551616",
    "9223372036854775807",
    "999999999999999999",
    "999999999999999999.0",
]
ODD_TEXT = [
    "សុខភាពផ្លូវចិត្ត",
    "مرحبا بالعالم",
    "\u202eevil\u202c",
    "שלום",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u0085",
    "👍🏽👨‍👩‍👧",
    "\ufeffBOM",
    "Ω≈ç√",
    "'; drop table engagement_events; --",
    "$now",
    "{}",
    "[]",
    "null",
    "\\",
    '"',
    ",",
    "",
    " ",
]
HUGE = ["x" * 129, "x" * 257, "ក" * 2049, "#a " * 700, "y" * 50_000]

GOOD_TIMES = [
    "2026-10-10T12:00:00Z",
    "2026-10-11T05:30:00+07:00",
    "2026-10-12 01:00:00",
    "1760097600",
    "1760097600.5",
    "2026-10-09T23:59:59.999999-05:30",
    "2026-10-13T23:00:00+14:00",
]
# Values a row is built from; each passes validation, alone or with the others of its stream.
GOOD: dict[str, list[Any]] = {
    "event_id": [f"ev{i}" for i in range(30)] + ["ក-1", "👍🏽", "x" * 128],
    "event_time": GOOD_TIMES,
    "province": ["KH-12", "Phnom Penh", "kampot province", "KH-1", None, ""],
    "age_band": [*ref.AGE_BANDS, None],
    "language": ["km", "en", "km-KH", "fr", None],
    "event_type": list(ref.ENGAGEMENT_TYPES),
    "video_id": ["v1", "tip_tpo_1", "វីដេអូ", "\u202ev2", "v" * 256],
    "creator_id": ["c1", None, "👨‍👩‍👧"],
    "hashtags": ["#MentalWell #fyp", '["MentalWell","សុខភាពផ្លូវចិត្ត"]', "#សុខភាពផ្លូវចិត្ត", None, "#a " * 682],
    "surface": [*ref.SURFACES, None, "FOR_YOU"],
    "watch_time_ms": [None, None, "0", "999999999999999999", "12.0"],
    "partner_id": [*SETTINGS.partner_ids, None],
    "stage": [*ref.REFERRAL_STAGES, "SHOWN"],
    "entry_point": [*ref.ENTRY_POINTS, None],
    "channel": [*ref.CHANNELS, None],
    "action": ["block", "unblock", "comment_filter_on", "comment_filter_off", "report"],
    "target_type": list(ref.TARGET_TYPES),
    "target_id": ["t1", "t2", "ក" * 256],
    "policy": list(ref.POLICIES),
    "detection": [None],
    "views_at_action": [None],
}
GOOD["user_id"] = []  # drawn from user_ids below

text_values = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(HUGE),
    st.sampled_from(ODD_TIMES),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(repr),
)
json_only = st.one_of(  # what only JSON can carry: other types than text
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["MentalWell", "ក", 1]), max_size=3),
    st.fixed_dictionaries({"a": st.sampled_from([1, "x", None])}),
)
user_ids = st.builds(
    lambda n, shape: shape.format(id=f"{MARKER}{n:04d}"),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(["{id}", "{id}", " {id} ", "{id}ក", "{id}\x00z", "\t{id}", "{id}" + "u" * 240, "{id}👍🏽"]),
)

# How each contract column is named in a file: mostly as written, sometimes in another
# case, twice in different cases, or not at all.
spellings = st.sampled_from(["plain"] * 15 + ["upper", "upper", "title", "twice", "missing"])
extra_columns = st.lists(st.sampled_from(["app_version", "Extra", "EXTRA", "ក្រុម", "device id", "_line"]), max_size=2)


@st.composite
def landing_files(draw: st.DrawFn) -> dict[str, Any]:
    """One landing file: its stream, format, column names and rows. A row is built from
    good values, then up to two of its fields (often event_time) get an odd one."""
    stream = draw(st.sampled_from(ref.STREAMS))
    ext = draw(st.sampled_from(EXTS))
    fields = COLUMNS[stream]
    columns: list[tuple[str, str]] = []  # (name in the file, contract field or "")
    for field in fields:
        how = draw(spellings)
        if how == "missing":
            continue
        names = {"plain": [field], "upper": [field.upper()], "title": [field.title()], "twice": [field, field.upper()]}
        columns += [(n, field) for n in names[how]]
    columns += [(n, "") for n in dict.fromkeys(draw(extra_columns)) if n not in {c for c, _ in columns}]
    twice = {f for n, f in columns if f and n == f} & {f for n, f in columns if f and n != f}
    is_json = ext.startswith(("jsonl", "ndjson"))
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        good = {f: draw(user_ids if f == "user_id" else st.sampled_from(GOOD[f])) for f in fields}
        if stream == "referral":
            good["partner_id"] = draw(st.sampled_from(SETTINGS.partner_ids))
        if stream == "engagement" and good["event_type"] not in ref.WATCH_TIME_TYPES:
            good["watch_time_ms"] = None
        odd = draw(st.lists(st.sampled_from(["event_time", "event_time", *fields]), max_size=2, unique=True))
        for f in odd:
            if f == "event_time" and draw(st.booleans()):
                good[f] = draw(st.sampled_from(ODD_TIMES))
            elif f == "user_id":
                good[f] = draw(st.one_of(user_ids.map(lambda u: u + "x" * 300), st.sampled_from(["", " ", None])))
            elif is_json and draw(st.integers(0, 3)) == 0:
                good[f] = draw(json_only)
            else:
                good[f] = draw(st.one_of(text_values, st.none()))
        row = {}
        for name, field in columns:
            if not field:
                row[name] = draw(text_values)
            elif field in twice and name != field:  # the other spelling of a field written twice
                row[name] = draw(st.one_of(st.none(), user_ids if field == "user_id" else text_values))
            else:
                row[name] = good[field]
        rows.append(row)
    garbage = is_json and draw(st.integers(0, 4)) == 0  # one line that is not a JSON object
    return {"stream": stream, "ext": ext, "columns": [c for c, _ in columns], "rows": rows, "garbage": garbage}


def write_landing(d: DataDir, i: int, spec: dict[str, Any]) -> None:
    path = d.landing / spec["stream"] / f"batch/file{i}.{spec['ext']}"
    path.parent.mkdir(parents=True, exist_ok=True)
    columns, rows = spec["columns"], spec["rows"]
    if spec["ext"] == "parquet":
        as_text = {c: [None if r[c] is None else str(r[c]) for r in rows] for c in columns}
        pl.DataFrame(as_text, schema=dict.fromkeys(columns, pl.String)).write_parquet(path)
        return
    if spec["ext"].startswith("csv"):
        buffer = io.StringIO()
        pl.DataFrame(
            {c: [None if r[c] is None else str(r[c]) for r in rows] for c in columns},
            schema=dict.fromkeys(columns, pl.String),
        ).write_csv(buffer)
        text = buffer.getvalue()
    else:
        lines = [json.dumps(r, ensure_ascii=False) for r in rows]
        if spec["garbage"]:
            lines.insert(len(lines) // 2, '{"event_id": "broken", ')
        text = "".join(line + "\n" for line in lines)
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if spec["ext"].endswith(".gz") else data)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def assert_no_raw_user_id(d: DataDir, log_lines: list[str]) -> None:
    needle = MARKER.encode()
    for path in d.root.rglob("*"):
        if path.is_file() and d.landing not in path.parents:
            assert needle not in path.read_bytes(), f"{path} holds a raw user id"
    assert not [line for line in log_lines if MARKER in line], "a log line holds a raw user id"
    for db, con in stored_databases(d, SETTINGS):
        columns = con.sql(
            "select table_name, column_name from information_schema.columns where table_catalog = current_database() "
            "and table_schema = 'main' and (data_type = 'VARCHAR' or data_type = 'VARCHAR[]')"
        ).fetchall()
        by_table: dict[str, list[str]] = {}
        for table, column in columns:
            by_table.setdefault(table, []).append(column)
        assert by_table
        for table, cols in by_table.items():  # one scan a table: every text column at once
            found = con.sql(
                "select "
                + ", ".join(f'count(*) filter (where contains("{c}"::varchar, $m))' for c in cols)
                + f' from "{table}"',
                params={"m": MARKER},
            ).fetchall()[0]
            assert not any(found), (
                f"{db}: {table}.{[c for c, n in zip(cols, found, strict=True) if n]} holds a raw user id"
            )


def assert_pages_and_status_read_it(d: DataDir) -> None:
    status = snapshot_status(d, SETTINGS)
    earliest = SETTINGS.validation.earliest.isoformat()
    tomorrow = (NOW + dt.timedelta(days=2)).date().isoformat()
    for day in (status["first_day"], status["last_day"]):
        assert day is None or earliest <= day <= tomorrow, status
    wide = Filters(start=SETTINGS.validation.earliest, end=(NOW + dt.timedelta(days=2)).date())
    with q.reader(d) as con:
        q.kpis(con, SETTINGS, wide)
        q.daily_trend(con, SETTINGS, wide)
        q.weekly_rhythm(con, SETTINGS, wide)
        q.reach_by_segment(con, SETTINGS, wide)
        q.hub_totals(con, SETTINGS, wide)
        q.hub_daily(con, SETTINGS, wide)
        q.tip_videos_by_partner(con, SETTINGS, wide)
        for dimension in ("partner_id", "entry_point", "channel"):
            q.referral_funnel(con, SETTINGS, wide, dimension)
        q.referral_daily(con, SETTINGS, wide)
        q.safety_totals(con, SETTINGS, wide)
        q.safety_by_policy(con, SETTINGS, wide)
        q.safety_daily(con, SETTINGS, wide)
        q.quarantine_by_reason(con)
        q.unreadable_files(con)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure reports its files at once
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(
    first=st.lists(landing_files(), min_size=1, max_size=3), second=st.lists(landing_files(), min_size=1, max_size=2)
)
def test_random_landing_files_never_break_the_refresh(first: list[dict], second: list[dict]) -> None:
    handler = _Lines()
    logging.getLogger().addHandler(handler)
    previous_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            d = DataDir(Path(tmp) / "data").ensure()
            totals = {s: 0 for s in ref.STREAMS}
            for batch, files in enumerate((first, second)):
                for i, spec in enumerate(files):
                    write_landing(d, batch * 10 + i, spec)
                result = refresh(SETTINGS, d, settle_seconds=0, now=NOW)
                for stream, c in result.streams.items():
                    assert c.read == c.loaded + c.duplicates + c.quarantined, (stream, c)
                    assert sum(c.by_reason.values()) >= c.quarantined
                    totals[stream] += c.loaded
            with published(d) as con:  # every run staged a file (if only as unreadable): published
                for stream in ref.STREAMS:
                    assert con.sql(f"select count(*) from {stream}_events").fetchall() == [(totals[stream],)]
            assert_pages_and_status_read_it(d)
            assert_no_raw_user_id(d, handler.lines)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(previous_level)
