"""The refresh on real DuckDB files: every rule of CONTRACT §2-§4, every format, exactly once."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
import shutil
import stat
import time
import uuid
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from pipelines import refresh as r
from pipelines.demo_data import BAD_KINDS, DemoSpec, write_demo_data
from pipelines.lake_write import RefreshBusy, refresh_lock
from pipelines.secrets import KEY_ENV, hmac_key
from queries.warehouse import published, published_snapshot_id
from tests.conftest import define_load_tables, read_landing_file
from tests.warehouse_edit import planted

END = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
SETTINGS = Settings()

# What each planted kind of bad row must be quarantined for: (field, start of reason).
EXPECTED_REASON = {
    "event_id_missing": "event_id: missing",
    "event_id_too_long": "event_id: longer than 128 characters",
    "event_time_missing": "event_time: missing",
    "event_time_invalid": "event_time: not ISO-8601 or epoch seconds",
    "event_time_future": "event_time: more than 1 day in the future",
    "user_id_missing": "user_id: missing",
    "province_invalid": "province: not a code KH-1..KH-25 or a province name",
    "age_band_invalid": "age_band: not one of 18-24, 25-34, 35-44, 45-54, 55+",
    "event_type_invalid": "event_type: unknown value",
    "video_id_missing": "video_id: missing (required for view)",
    "creator_id_missing": "creator_id: missing (required for post)",
    "surface_invalid": "surface: unknown value",
    "watch_time_negative": "watch_time_ms: not a whole number >= 0",
    "watch_time_not_view": "watch_time_ms: only allowed on views",
    "partner_unknown": "partner_id: not a partner in the campaign config",
    "partner_missing": "partner_id: missing",
    "stage_invalid": "stage: not one of shown, clicked, contacted",
    "entry_point_invalid": "entry_point: unknown value",
    "channel_invalid": "channel: unknown value",
    "action_invalid": "action: unknown value",
    "target_type_invalid": "target_type: unknown value",
    "target_id_missing": "target_id: missing",
    "policy_missing": "policy: missing (required for report)",
    "policy_invalid": "policy: unknown value",
    "detection_not_removal": "detection: only allowed on removals",
    "detection_invalid": "detection: not proactive or user_report",
    "views_at_action_negative": "views_at_action: not a whole number >= 0",
    "views_at_action_not_removal": "views_at_action: only allowed on removals",
}


def refresh(d: DataDir, **kw):
    return r.refresh(SETTINGS, d, settle_seconds=0, now=NOW, **kw)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """One realistic data dir, demo data at scale 0.3, refreshed once; copy it to write."""
    d = DataDir(tmp_path_factory.mktemp("warehouse") / "data").ensure()
    manifest = write_demo_data(SETTINGS, d, DemoSpec(days=60, scale=0.3, seed=5, end=END))
    result = refresh(d)
    return d, manifest, result


@pytest.fixture
def warehouse_copy(demo_warehouse, tmp_path: Path):
    d, manifest, result = demo_warehouse
    copy = DataDir(tmp_path / "data")
    shutil.copytree(d.root, copy.root, symlinks=True)
    return copy, manifest, result


def write_file(d: DataDir, rel: str, rows: list[dict], fmt: str | None = None) -> Path:
    """A landing file written by hand, in the format its name says."""
    path = d.landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or rel
    df = pl.DataFrame(rows)
    if fmt.endswith(".parquet"):
        df.write_parquet(path)
        return path
    text = df.write_csv() if ".csv" in fmt else "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if fmt.endswith(".gz") else data)
    return path


def view(i: int, **over) -> dict:
    row = {
        "event_id": f"e{i}",
        "event_time": "2026-10-10T12:00:00Z",
        "user_id": f"user-{i}",
        "event_type": "view",
        "video_id": "v1",
        "hashtags": "#MentalWell",
        "province": "KH-12",
        "age_band": "18-24",
        "language": "km",
    }
    return {**row, **over}


def count(d: DataDir, sql: str, params: dict | None = None):
    with published(d) as con:
        return con.sql(sql, params=params or {}).fetchall()


# --- the demo landing zone, against what demo-data says it planted -----------------------


def test_counts_match_what_demo_data_planted(demo_warehouse) -> None:
    _, manifest, result = demo_warehouse
    for stream, m in manifest["streams"].items():
        c = result.streams[stream]
        assert (c.read, c.loaded, c.duplicates, c.quarantined) == (
            m["rows"],
            m["good_events"],
            m["duplicate_rows"],
            m["bad_rows"],
        ), stream
        assert c.read == c.loaded + c.duplicates + c.quarantined
    assert result.files["unreadable"] == [
        {
            "path": manifest["unreadable_file"]["path"],
            "reason": "not a readable Parquet file (truncated or another format)",
        }
    ]
    assert result.files["new"] == len(manifest["files"])
    assert result.files["skipped_seen"] == 1  # the exact copy under another name
    assert {u["columns"][0] for u in result.unknown_columns} == {"app_version", "reviewer_queue"}


def test_every_bad_row_is_quarantined_with_its_reason_and_line(demo_warehouse) -> None:
    d, manifest, _ = demo_warehouse
    got = {
        (stream, path, line): reasons
        for stream, path, line, reasons in count(d, "select stream, file_path, line, reasons from quarantine_rows")
    }
    assert len(got) == sum(m["bad_rows"] for m in manifest["streams"].values())
    kinds = {k.name for k in BAD_KINDS}
    assert kinds == set(EXPECTED_REASON)
    for row in manifest["bad_rows"]:
        reasons = got[(row["stream"], row["path"], row["line"])]
        assert any(r.startswith(EXPECTED_REASON[row["kind"]]) for r in reasons), (row, reasons)


def test_quarantine_keeps_values_with_user_id_hashed(demo_warehouse) -> None:
    d, manifest, _ = demo_warehouse
    bad = next(r for r in manifest["bad_rows"] if r["kind"] == "event_type_invalid")
    (row_json,) = count(
        d,
        "select row_json from quarantine_rows where file_path = $p and line = $l",
        {"p": bad["path"], "l": bad["line"]},
    )[0]
    values = json.loads(row_json)
    assert values["event_type"] == "dislike"
    source = read_landing_file(d.landing / bad["path"])
    first = 2 if ".csv" in bad["path"] else 1
    raw_user = source["user_id"][bad["line"] - first]
    key = hmac_key(d)
    assert values["user_id"] == hmac.new(key, raw_user.encode(), hashlib.sha256).hexdigest()[:32]


def test_rerun_reads_nothing_and_keeps_the_snapshot(warehouse_copy) -> None:
    d, manifest, first = warehouse_copy
    before = published_snapshot_id(d)
    again = refresh(d)
    assert not again.published
    assert again.snapshot_id == first.snapshot_id == before
    assert published_snapshot_id(d) == before  # no commit: the lake has no new snapshot
    assert all(c.read == 0 for c in again.streams.values())
    assert again.files["new"] == 0
    assert again.files["skipped_seen"] == len(manifest["files"]) + 2  # + the copy and the unreadable file


def test_renamed_and_recompressed_copies_are_skipped(warehouse_copy) -> None:
    d, manifest, _ = warehouse_copy
    csv_gz = next(f for f in manifest["files"] if f["format"] == "csv.gz")
    src = d.landing / csv_gz["path"]
    shutil.copyfile(src, d.landing / "engagement" / "renamed-copy.csv.gz")
    raw = gzip.decompress(src.read_bytes())
    (d.landing / "engagement" / "recompressed.csv.gz").write_bytes(gzip.compress(raw, compresslevel=9, mtime=123))
    result = refresh(d)
    assert result.files["new"] == 0
    assert result.files["skipped_seen"] == len(manifest["files"]) + 4
    assert all(c.read == 0 for c in result.streams.values())
    assert count(
        d,
        "select count(*) from file_ledger where path in ('engagement/renamed-copy.csv.gz', "
        "'engagement/recompressed.csv.gz') and status = 'duplicate_file' and rows_read = 0",
    ) == [(2,)]
    assert not refresh(d).published  # the copies' paths are in the ledger now: not even hashed again


def test_no_raw_user_id_anywhere_under_the_data_dir(demo_warehouse) -> None:
    d, manifest, _ = demo_warehouse
    raw_ids: set[str] = set()
    for f in manifest["files"]:
        raw_ids.update(read_landing_file(d.landing / f["path"])["user_id"].drop_nulls().to_list())
    assert len(raw_ids) > 1000
    needles = [i.encode() for i in sorted(raw_ids)]
    for path in d.root.rglob("*"):
        if not path.is_file() or d.landing in path.parents:
            continue
        data = path.read_bytes()
        leaked = [n for n in needles if n in data]
        assert not leaked, f"{path} holds raw user ids, e.g. {leaked[:2]}"
    ids = pl.DataFrame({"raw_id": sorted(raw_ids)})
    from queries.pages import reader

    with reader(d):  # the pages' local cache of the snapshot exists too
        pass
    caches = sorted((d.root / "lake" / "cache").rglob("*.duckdb"))
    assert len(caches) == 1
    # the lake (its Parquet files are compressed: read through DuckDB) and the pages' cache
    for db in ["lake", *caches]:
        con = connect_lake(SETTINGS, d) if db == "lake" else duckdb.connect(str(db), read_only=True)
        try:
            con.register("raw_ids", ids)
            columns = con.sql(
                "select table_name, column_name from information_schema.columns where data_type = 'VARCHAR' "
                "and table_catalog = current_database() and table_schema = 'main' and table_name <> 'raw_ids'"
            ).fetchall()
            assert len(columns) > 20
            for table, column in columns:
                n = con.sql(
                    f'select count(*) from "{table}" where "{column}" in (select raw_id from raw_ids)'
                ).fetchall()
                assert n[0][0] == 0, f"{db}: {table}.{column} holds raw user ids"
            (n,) = con.sql("select count(*) from quarantine_rows, raw_ids where contains(row_json, raw_id)").fetchall()[
                0
            ]
            assert n == 0
        finally:
            con.close()


def test_secrets_file_is_private_and_env_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    d = DataDir(tmp_path / "d").ensure()
    key = hmac_key(d)
    path = d.secrets / "hmac.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert hmac_key(d) == key  # stable across runs
    monkeypatch.setenv(KEY_ENV, "from-the-environment-0123456789abcdef")
    assert hmac_key(d) == b"from-the-environment-0123456789abcdef"


@pytest.mark.parametrize(
    "key",
    ["k" * 100, "កូនសោ-key-with-Khmer-0123456789abcdef"],  # longer than a block (hashed first, RFC 2104); not ASCII
)
def test_user_key_is_bit_identical_to_python_hmac(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv(KEY_ENV, key)
    d = DataDir(tmp_path / "d").ensure()
    ids = ["6800000000000000001", "user@example.com", "អ្នកប្រើ", "x" * 256, "  padded  ", "\ttab", "   "]
    write_file(d, "engagement/a.csv", [view(i, user_id=u) for i, u in enumerate(ids)])
    result = refresh(d)
    got = dict(count(d, "select event_id, user_key from engagement_events"))
    for i, u in enumerate(ids[:-1]):
        raw = u.strip(" ")  # surrounding spaces are not part of the id (as SQL's trim); a tab is
        digest = hmac.new(key.encode(), raw.encode(), hashlib.sha256).hexdigest()
        assert got[f"e{i}"] == uuid.UUID(hex=digest[:32])  # the first 128 bits, stored as a UUID
    assert f"e{len(ids) - 1}" not in got  # blank: no id
    assert result.streams["engagement"].by_reason == {"user_id: missing": 1}


@pytest.mark.parametrize("ext", ["csv", "csv.gz", "parquet", "jsonl"])
def test_a_column_named_like_the_refresh_own_is_only_an_unknown_column(tmp_path: Path, ext: str) -> None:
    """A file with columns named _line, _MALFORMED or _json (the names the refresh gives its
    own): its rows load and quarantine with their real line numbers, and those columns are
    reported as unknown. Found by the property test: a Parquet file's rows lost their line
    numbers and its rejected rows were counted but never quarantined; a CSV file was called
    unreadable."""
    d = DataDir(tmp_path / "d").ensure()
    rows = [view(1), view(2, event_type="wave"), view(3)]
    rows = [{**r, "_line": str(40 + i), "_MALFORMED": "yes", "_json": "{}"} for i, r in enumerate(rows)]
    write_file(d, f"engagement/a.{ext}", rows)
    result = refresh(d)
    c = result.streams["engagement"]
    assert (c.read, c.loaded, c.quarantined) == (3, 2, 1)
    assert result.files["unreadable"] == []
    first = 2 if ext.startswith("csv") else 1  # a CSV header is line 1
    assert count(d, "select line, reason from quarantine_rows") == [(first + 1, "event_type: unknown value")]
    [unknown] = result.unknown_columns
    assert len(unknown["columns"]) == 3 and all(
        n.split(" ")[0] in ("_line", "_malformed", "_json") for n in unknown["columns"]
    ), unknown


# --- formats, timestamps, text ----------------------------------------------------------


LAUNCH_5AM_UTC = dt.datetime(2026, 10, 10, 5, tzinfo=dt.UTC).timestamp()
TIME_SHAPES = {
    "2026-10-10T05:00:00Z": LAUNCH_5AM_UTC,
    "2026-10-10T12:00:00+07:00": LAUNCH_5AM_UTC,
    "2026-10-10T12:00:00+0700": LAUNCH_5AM_UTC,
    "2026-10-10 05:00:00": LAUNCH_5AM_UTC,  # no offset: UTC
    "2026-10-10T05:00:00.250Z": LAUNCH_5AM_UTC + 0.25,
    str(int(LAUNCH_5AM_UTC)): LAUNCH_5AM_UTC,  # epoch seconds
}


@pytest.mark.parametrize("ext", ["csv", "csv.gz", "jsonl", "ndjson", "jsonl.gz", "parquet"])
def test_every_format_and_timestamp_shape(tmp_path: Path, ext: str) -> None:
    d = DataDir(tmp_path / "d").ensure()
    rows = [view(i, event_time=t) for i, t in enumerate(TIME_SHAPES)]
    write_file(d, f"engagement/deep/er/still/file.{ext}", rows)
    result = refresh(d)
    assert (result.streams["engagement"].loaded, result.streams["engagement"].quarantined) == (len(rows), 0)
    got = dict(count(d, "select event_id, epoch(event_at) from engagement_events"))
    assert got == {f"e{i}": epoch for i, epoch in enumerate(TIME_SHAPES.values())}


def test_native_parquet_types_are_accepted(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    path = d.landing / "engagement" / "typed.parquet"
    pl.DataFrame(
        {
            "Event_ID": ["p1", "p2"],
            "EVENT_TIME": [dt.datetime(2026, 10, 10, 5), dt.datetime(2026, 10, 11, 5)],
            "user_id": ["u1", "u2"],
            "event_type": ["view", "view"],
            "video_id": ["v1", "v2"],
            "hashtags": [["MentalWell", "សុខភាពផ្លូវចិត្ត"], ["fyp"]],
            "watch_time_ms": [1200, None],
        }
    ).with_columns(pl.col("EVENT_TIME").dt.replace_time_zone("Asia/Phnom_Penh")).write_parquet(path)
    refresh(d)
    got = count(d, "select event_id, event_at, hashtags, watch_time_ms from engagement_events order by 1")
    assert got[0][1] == dt.datetime(2026, 10, 9, 22, tzinfo=got[0][1].tzinfo)
    assert got[0][2] == ["mentalwell", "សុខភាពផ្លូវចិត្ត"] and got[0][3] == 1200
    assert got[1][2] == ["fyp"] and got[1][3] is None


def test_khmer_survives_byte_for_byte_and_columns_ignore_case(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    khmer = "សុខុមាលភាពផ្លូវចិត្ត"
    rows = [
        {
            "EVENT_ID": "k1",
            "Event_Time": "2026-10-10T05:00:00Z",
            "User_Id": "u1",
            "EVENT_TYPE": "view",
            "Video_ID": "v1",
            "HashTags": f"#{khmer} #MentalWell #fyp",
            "Language": "km-KH",
            "Province": "phnom penh province",
        },
        {
            "EVENT_ID": "k2",
            "Event_Time": "2026-10-10T05:00:00Z",
            "User_Id": "u2",
            "EVENT_TYPE": "view",
            "Video_ID": "v1",
            "HashTags": json.dumps([khmer, "MENTALWELL"], ensure_ascii=False),
            "Language": "fr",
            "Province": "Preah Sihanouk Province",
        },
    ]
    write_file(d, "engagement/k.csv", rows)
    write_file(d, "engagement/k.jsonl", [{**r, "EVENT_ID": r["EVENT_ID"] + "j", "Extra": 1} for r in rows])
    result = refresh(d)
    assert result.streams["engagement"].loaded == 4
    assert {u["path"]: u["columns"] for u in result.unknown_columns} == {"engagement/k.jsonl": ["extra"]}
    got = {r[0]: r[1:] for r in count(d, "select event_id, hashtags, language, province from engagement_events")}
    assert got["k1"] == ([khmer, "mentalwell", "fyp"], "km", "KH-12")
    assert got["k2j"] == ([khmer, "mentalwell"], "other", "KH-18")
    assert got["k1"][0][0].encode("utf-8") == khmer.encode("utf-8")


def test_missing_values_fold_to_unknown_and_other(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(
        d,
        "referral/r.jsonl",
        [
            {
                "event_id": "r1",
                "event_time": "2026-10-10T05:00:00Z",
                "user_id": "u",
                "partner_id": "tpo-cambodia",
                "stage": "shown",
            },
        ],
    )
    refresh(d)
    assert count(d, "select province, age_band, language, entry_point, channel from referral_events") == [
        ("unknown", "unknown", "unknown", "other", "other")
    ]


def test_local_day_buckets_use_the_campaign_timezone(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(
        d, "engagement/t.csv", [view(1, event_time="2026-10-09T20:00:00Z"), view(2, event_time="2026-10-09T16:59:59Z")]
    )
    refresh(d)
    days = count(d, "select day, sum(count_events) from mart_engagement_daily group by day order by day")
    assert days == [(dt.date(2026, 10, 9), 1), (dt.date(2026, 10, 10), 1)]


def test_unreadable_files_are_recorded_whole_and_the_run_goes_on(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(d, "engagement/good.csv", [view(1)])
    (d.landing / "engagement" / "not-gzip.csv.gz").write_bytes(b"event_id,event_time\nx,y\n")
    whole = gzip.compress("".join(json.dumps(view(i)) + "\n" for i in range(5000)).encode(), mtime=0)
    (d.landing / "engagement" / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    (d.landing / "engagement" / "latin1.csv").write_bytes("event_id,user_id\né1,caf\xe9\n".encode("latin-1"))
    (d.landing / "safety" / "garbage.jsonl").write_bytes(b"not json\n{also not\n")
    (d.landing / "referral" / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (d.landing / "referral" / ".hidden.csv").write_bytes(b"ignored")
    (d.landing / "referral" / "upload.csv.part").write_bytes(b"ignored until renamed")
    result = refresh(d)
    assert result.streams["engagement"].loaded == 1
    assert sorted((u["path"], u["reason"]) for u in result.files["unreadable"]) == [
        ("engagement/cut.jsonl.gz", "not a valid gzip file (truncated or corrupt)"),
        ("engagement/latin1.csv", "not UTF-8 text"),
        ("engagement/not-gzip.csv.gz", "not a valid gzip file"),
        (
            "referral/notes.xlsx",
            "unsupported file type; accepted: .csv, .csv.gz, .jsonl, .ndjson, .jsonl.gz, .ndjson.gz, .parquet",
        ),
        ("safety/garbage.jsonl", "not readable as JSON lines (no line is a JSON object)"),
    ]
    ledger = count(d, "select path, status, file_sha256 from file_ledger where status = 'unreadable' order by path")
    assert [p for p, _, _ in ledger] == sorted(u["path"] for u in result.files["unreadable"])
    assert all(len(h) == 64 for _, _, h in ledger)
    assert not any(p.is_file() for p in d.quarantine.rglob("*"))  # no copy of the bytes
    assert not refresh(d).files["unreadable"]  # never re-quarantined


def test_a_malformed_json_line_is_quarantined_alone(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    path = d.landing / "engagement" / "mixed.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(view(1)) + "\n\n{broken\n[1, 2]\n" + json.dumps(view(2)) + "\n", encoding="utf-8")
    result = refresh(d)
    c = result.streams["engagement"]
    assert (c.read, c.loaded, c.quarantined) == (4, 2, 2)
    assert count(d, "select line, reason from quarantine_rows order by line") == [
        (3, "row: not valid JSON"),
        (4, "row: not a JSON object"),
    ]


# --- exactly once ----------------------------------------------------------------------


def test_duplicates_within_a_file_across_files_and_across_runs(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(d, "engagement/a.csv", [view(1), view(2), view(1, video_id="later-copy")])
    write_file(d, "engagement/b.jsonl", [view(2, video_id="other-file"), view(3)])
    first = refresh(d).streams["engagement"]
    assert (first.read, first.loaded, first.duplicates) == (5, 3, 2)
    assert count(d, "select video_id from engagement_events where event_id = 'e1'") == [("v1",)]  # first seen kept
    write_file(d, "engagement/c.csv", [view(3, video_id="next-run"), view(4)])
    second = refresh(d).streams["engagement"]
    assert (second.read, second.loaded, second.duplicates) == (2, 1, 1)
    assert count(d, "select count(*), count(distinct event_id) from engagement_events") == [(4, 4)]
    ledger = {p: (n, dup) for p, n, dup in count(d, "select path, rows_loaded, rows_duplicate from file_ledger")}
    assert ledger == {"engagement/a.csv": (2, 1), "engagement/b.jsonl": (1, 1), "engagement/c.csv": (1, 1)}


def test_a_file_still_being_written_waits(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    path = write_file(d, "engagement/fresh.csv", [view(1)])
    result = r.refresh(SETTINGS, d, settle_seconds=60, now=NOW)
    assert result.files["waiting"] == ["engagement/fresh.csv"] and not result.published
    old = path.stat().st_mtime - 120
    os.utime(path, (old, old))
    assert r.refresh(SETTINGS, d, settle_seconds=60, now=NOW).streams["engagement"].loaded == 1


def test_a_second_refresh_waits_then_exits_with_one_line(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    held = refresh_lock(d, 0)
    try:
        with pytest.raises(RefreshBusy) as e:
            r.refresh(SETTINGS, d, settle_seconds=0, wait_seconds=0.2)
    finally:
        held.release()
    assert str(e.value) == (
        f"another refresh is running on {d.root} (waited 0.2 s); try again when it ends, or pass --wait SECONDS"
    )


def test_each_refresh_is_one_lake_snapshot_and_earlier_ones_stay_readable(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    ids = []
    for i in range(5):
        write_file(d, f"engagement/{i}.csv", [view(i)])
        ids.append(r.refresh(SETTINGS, d, settle_seconds=0).snapshot_id)
    assert ids == ["1", "2", "3", "4", "5"]  # snapshot 0 is the empty lake
    assert not list(d.warehouse.glob("*.duckdb"))  # no copy of the warehouse anywhere
    con = connect_lake(SETTINGS, d)
    try:  # time travel: what snapshot 2 published, until housekeeping expires it (warehouse.keep_days)
        at = [con.sql(f"select count(*) from engagement_events at (version => {v})").fetchall()[0][0] for v in ids]
    finally:
        con.close()
    assert at == [1, 2, 3, 4, 5]


# --- marts -----------------------------------------------------------------------------


MART_GRAIN = {
    "mart_engagement_daily": "day, province, age_band, language, event_type, surface, partner_id, is_campaign",
    "mart_referral_daily": "day, province, age_band, language, partner_id, entry_point, channel, stage",
    "mart_safety_daily": "day, province, age_band, language, action, target_type, policy, detection",
    "mart_activity_hourly": "stream, day, hour",
}


@pytest.mark.parametrize("mart", sorted(MART_GRAIN))
def test_marts_have_their_documented_grain_and_add_up(demo_warehouse, mart: str) -> None:
    d, _, _ = demo_warehouse
    grain = MART_GRAIN[mart]
    from core.sqlfiles import sql

    assert grain.replace(", ", " × ").split(" × ")[0] in sql(f"marts/{mart}", "pipelines")
    rows, distinct = count(d, f"select count(*), count(distinct ({grain})) from {mart}")[0]
    assert rows == distinct > 0
    total = count(d, f"select sum(count_events) from {mart}")[0][0]
    events = count(
        d,
        "select (select count(*) from engagement_events) + (select count(*) from referral_events)"
        " + (select count(*) from safety_events)",
    )[0][0]
    if mart == "mart_activity_hourly":
        assert total == events
    else:
        stream = mart.removeprefix("mart_").removesuffix("_daily")
        assert total == count(d, f"select count(*) from {stream}_events")[0][0]


def test_people_mart_has_its_grain_and_counts_exactly_the_distinct_users(demo_warehouse) -> None:
    d, _, _ = demo_warehouse
    grain = "day, province, age_band, language, user_number"
    rows, distinct = count(d, f"select count(*), count(distinct ({grain})) from mart_engagement_people_daily")[0]
    assert rows == distinct > 0
    numbers = count(
        d, "select count(*), count(distinct user_key), count(distinct user_number), max(user_number) from user_numbers"
    )
    assert numbers[0][0] == numbers[0][1] == numbers[0][2] == numbers[0][3]  # dense and one per key
    from_mart = count(
        d,
        "select count(distinct user_number) filter (where has_campaign_view), "
        "count(distinct user_number) filter (where has_campaign_engagement), "
        "count(distinct user_number) filter (where has_hub_visit) from mart_engagement_people_daily "
        "where province = 'KH-12'",
    )
    from_events = count(
        d,
        "select count(distinct user_key) filter (where is_campaign and event_type = 'view'), "
        "count(distinct user_key) filter (where is_campaign and event_type in ('like', 'comment', 'share', 'favorite')), "
        "count(distinct user_key) filter (where event_type = 'hub_visit') from engagement_events where province = 'KH-12'",
    )
    assert from_mart == from_events and from_events[0][0] > 0


def test_campaign_videos_are_those_with_a_tracked_hashtag(demo_warehouse) -> None:
    d, _, _ = demo_warehouse
    campaign, events = count(
        d,
        "select sum(count_events) filter (where is_campaign), sum(count_events) from mart_engagement_daily "
        "where event_type = 'view'",
    )[0]
    assert 0.7 < campaign / events < 0.95


def test_incremental_marts_equal_a_full_rebuild(warehouse_copy) -> None:
    from core.sqlfiles import mart_names, sql

    d, _, _ = warehouse_copy
    write_file(d, "engagement/late.csv", [view(900 + i, event_time=f"2026-10-{10 + i}T05:00:00Z") for i in range(3)])
    write_file(
        d,
        "safety/late.jsonl",
        [
            {
                "event_id": "s-late",
                "event_time": "2026-10-12T05:00:00Z",
                "user_id": "u",
                "action": "block",
                "target_type": "account",
                "target_id": "a1",
            }
        ],
    )
    result = refresh(d)
    assert "marts_incremental_s" in result.timings
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    params = {
        "tz": SETTINGS.timezone,
        "tracked": sorted(SETTINGS.tracked_hashtags),
        "full": True,
        "utc_offset_us": None,  # ICU's conversion, against the lake's marts built with the fixed offset
        "days": [],
        "from_utc": epoch,
        "to_utc": epoch,
    }
    with published(d) as con:
        define_load_tables(con)
        for name in mart_names():
            select = sql(f"marts/{name}", "pipelines")
            used = {k: v for k, v in params.items() if f"${k}" in select}
            diff = con.execute(
                f"with fresh as ({select}) select count(*) from ((select * from {name} except all from fresh) "
                f"union all (from fresh except all select * from {name}))",
                used,
            ).fetchall()[0][0]
            assert diff == 0, name


def test_a_changed_timezone_rebuilds_every_mart_day(warehouse_copy) -> None:
    d, _, _ = warehouse_copy
    write_file(d, "engagement/tz.csv", [view(1000, event_time="2026-10-09T20:00:00Z")])
    utc = Settings(timezone="UTC")
    result = r.refresh(utc, d, settle_seconds=0, now=NOW)
    assert "marts_full_s" in result.timings
    assert (
        count(
            d,
            "select sum(count_events) from mart_engagement_daily where day = '2026-10-09' "
            "and event_type = 'view' and province = 'KH-12' and age_band = '18-24' and surface = 'other'",
        )[0][0]
        >= 1
    )


def test_a_file_damaged_after_its_first_chunk_loads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.stage_file as stage_module
    from pipelines.read import UnreadableFile, iter_rows

    d = DataDir(tmp_path / "d").ensure()
    write_file(d, "engagement/good.csv", [view(1)])
    write_file(d, "engagement/damaged.csv", [view(2), view(3, event_type="dislike"), view(4), view(5)])

    def first_chunk_then_damage(f, chunk_rows):
        chunks = iter_rows(f, 2)
        yield next(chunks)
        if f.rel.endswith("damaged.csv"):
            raise UnreadableFile("not a readable Parquet file (truncated or another format)")
        yield from chunks

    monkeypatch.setattr(stage_module, "iter_rows", first_chunk_then_damage)
    result = refresh(d)
    assert result.streams["engagement"].loaded == 1
    assert result.streams["engagement"].quarantined == 0
    assert [u["path"] for u in result.files["unreadable"]] == ["engagement/damaged.csv"]
    assert count(d, "select event_id from engagement_events") == [("e1",)]
    assert count(d, "select count(*) from quarantine_rows") == [(0,)]


def test_a_file_rewritten_while_it_is_read_waits_for_the_next_run(tmp_path: Path, monkeypatch) -> None:
    import pipelines.stage_file as stage_module
    from pipelines.read import iter_rows

    d = DataDir(tmp_path / "d").ensure()
    path = write_file(d, "engagement/growing.csv", [view(1), view(2)])

    def rewrite_while_reading(f, chunk_rows):
        yield from iter_rows(f, chunk_rows)
        with path.open("a", encoding="utf-8") as out:  # the exporter appends a row meanwhile
            out.write("e3,2026-10-10T12:00:00Z,user-3,view,v1,#MentalWell,KH-12,18-24,km\n")

    monkeypatch.setattr(stage_module, "iter_rows", rewrite_while_reading)
    first = refresh(d)
    assert first.files["waiting"] == ["engagement/growing.csv"] and not first.published
    monkeypatch.undo()
    second = refresh(d)
    assert (second.streams["engagement"].read, second.streams["engagement"].loaded) == (3, 3)


def test_changed_hashtags_re_mark_every_event(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "d").ensure()
    write_file(d, "engagement/a.csv", [view(1, hashtags="#MentalWell"), view(2, hashtags="#fyp #Cambodia")])
    refresh(d)
    assert count(d, "select event_id from engagement_events where is_campaign") == [("e1",)]
    write_file(d, "engagement/b.csv", [view(3, hashtags="#fyp")])
    r.refresh(Settings(hashtags={"fyp": []}), d, settle_seconds=0, now=NOW)
    assert count(d, "select event_id from engagement_events where is_campaign order by 1") == [("e2",), ("e3",)]
    assert count(d, "select sum(count_events) from mart_engagement_daily where is_campaign") == [(2,)]


def test_a_warehouse_from_before_a_new_mart_gets_every_mart_on_its_next_load(tmp_path: Path) -> None:
    """An upgrade: the published snapshot lacks a mart the pages now read (and its user
    numbers); the next load rebuilds every mart for every day, so the pages work again."""
    d = DataDir(tmp_path / "data").ensure()
    write_file(d, "engagement/a.jsonl", [view(i, user_id=f"u{i % 3}") for i in range(6)])
    r.refresh(Settings(), d, settle_seconds=0)
    with planted(d) as con:
        con.execute("drop table mart_engagement_people_daily")
        con.execute("delete from user_numbers")
    write_file(d, "engagement/b.jsonl", [view(i, user_id="u9") for i in range(6, 8)])
    r.refresh(Settings(), d, settle_seconds=0)
    with published(d) as con:
        numbered = con.sql("select count(*) from user_numbers").fetchall()[0][0]
        people = con.sql("select count(distinct user_number) from mart_engagement_people_daily").fetchall()[0][0]
    assert numbered == people == 4


def test_pulse_refresh_wait_is_for_the_whole_command(tmp_path: Path, monkeypatch) -> None:
    """`pulse refresh --wait N` first waits for the lock itself (to fail before Prefect's
    start-up), then the flow takes it: the flow is given what is left of N, not N again (which
    let the command wait up to twice what was asked)."""
    import threading

    from click.testing import CliRunner

    import pipelines.flows as flows
    from cli.main import cli

    d = DataDir(tmp_path / "d").ensure()
    taken = threading.Event()

    def hold_a_second() -> None:  # another refresh, in a thread of its own (the lock is per thread)
        held = refresh_lock(d, 0)
        taken.set()
        time.sleep(1.0)
        held.release()

    threading.Thread(target=hold_a_second).start()
    taken.wait(10)
    given: list[float] = []

    class State:
        def is_failed(self) -> bool:
            return False

        def result(self) -> dict:
            return {}

    def flow(data_dir, config, settle, wait, return_state=False, **options):
        given.append(wait)
        return State()

    monkeypatch.setattr(flows, "refresh", flow)
    monkeypatch.setenv("PULSE_HMAC_KEY", "wait-test-key-0123456789abcdef0123456789")
    monkeypatch.setattr("cli.data.refresh_line", lambda result: "ok")
    out = CliRunner().invoke(cli, ["--data-dir", str(d.root), "refresh", "--wait", "5", "--settle", "0"])
    assert out.exit_code == 0, out.output
    assert len(given) == 1 and 0 < given[0] <= 4.0, given  # the lock was held about a second of the five
