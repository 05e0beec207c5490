"""The refresh committing into DuckLake in one transaction: one commit per refresh, the
128-bit user keys bit for bit, the pages' cache giving the lake's figures, the key guard."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import shutil
import uuid
from pathlib import Path

import polars as pl
import pytest

from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from pipelines.refresh import refresh
from pipelines.secrets import hmac_key
from queries.warehouse import published, published_snapshot_id
from tests.conftest import read_landing_file
from tests.test_crash_and_concurrency import KEY, batches, land

__all__ = ["batches"]  # the module fixture, shared with the crash tests


@pytest.fixture(scope="module")
def lake(batches, tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A then B, refreshed into a lake."""
    src, a, b = batches
    os.environ["PULSE_HMAC_KEY"] = KEY
    try:
        d = DataDir(tmp_path_factory.mktemp("lake") / "data").ensure()
        land(src, d, a)
        refresh(Settings(), d, settle_seconds=0)
        land(src, d, b)
        refresh(Settings(), d, settle_seconds=0)
    finally:
        os.environ.pop("PULSE_HMAC_KEY", None)
    return d


def test_each_refresh_is_one_commit_whose_id_is_the_snapshot_id(lake: DataDir) -> None:
    assert not list(lake.warehouse.glob("*.duckdb"))  # no snapshot file: the lake is the warehouse
    con = connect_lake(Settings(), lake)
    try:
        commits = con.sql(
            "select snapshot_id, commit_message from ducklake_snapshots(current_database()) order by 1"
        ).fetchall()
        loads = con.sql("select load_id from refresh_runs order by started_at").fetchall()
    finally:
        con.close()
    # snapshot 0 is the lake's creation; each refresh is one commit, named after its load
    assert commits == [(0, None), (1, f"load {loads[0][0]}"), (2, f"load {loads[1][0]}")]
    assert published_snapshot_id(lake) == "2"


def test_user_keys_are_the_128_bit_hmac_bit_for_bit(lake: DataDir, batches) -> None:
    """DuckDB writes a UHUGEINT to Parquet as a DOUBLE (53 bits): the lake keeps user_key as a
    UUID, and every key equals the first 128 bits of HMAC-SHA-256 of the raw id."""
    src, *_ = batches
    os.environ["PULSE_HMAC_KEY"] = KEY
    try:
        key = hmac_key(lake)
    finally:
        os.environ.pop("PULSE_HMAC_KEY", None)
    expected: dict[str, uuid.UUID] = {}
    for path in sorted((lake.landing / "engagement").rglob("*")):
        if path.is_file() and not path.name.startswith("unreadable"):
            try:
                df = read_landing_file(path)
            except Exception:  # the demo's planted unreadable files
                continue
            for event_id, user_id in zip(df["event_id"], df["user_id"], strict=True):
                if event_id and user_id and user_id.strip(" "):
                    digest = hmac.new(key, user_id.strip(" ").encode(), hashlib.sha256).hexdigest()
                    expected.setdefault(event_id, uuid.UUID(hex=digest[:32]))
    with published(lake) as con:
        got = dict(con.sql("select event_id, user_key from engagement_events").fetchall())
    assert len(got) > 1000
    assert all(expected[e] == k for e, k in got.items())


def test_pages_read_the_lake_figures_from_its_cache(lake: DataDir) -> None:
    """Every page query gives the same frame on the snapshot's local cache (built by its
    first reader) as on the lake itself."""
    from benchmarks.pages import PAGE_QUERIES
    from core.sqlfiles import sql
    from queries import pages as q
    from queries.filters import Filters

    s = Settings()
    f = Filters(s.launch, dt.date(2026, 11, 24))

    def frames(con) -> list:
        out: list = []
        for page, run in PAGE_QUERIES.items():
            res = run(con, s, f)
            for r in res if isinstance(res, list | tuple) else [res]:
                out.append((page, r.sort(r.columns) if isinstance(r, pl.DataFrame) else r))
        return out

    with published(lake) as con:
        con.execute(sql("pages/macros"))
        expected = frames(con)
    with q.reader(lake) as con:
        got = frames(con)
    assert len(got) == len(expected) == 19
    for (page, g), (_, e) in zip(got, expected, strict=True):
        assert g.equals(e) if isinstance(g, pl.DataFrame) else g == e, page
    cached = sorted(p.name for p in (lake.root / "lake" / "cache").rglob("snapshot-*.duckdb"))
    assert cached == ["snapshot-2.duckdb"]


def test_the_pages_cache_belongs_to_one_lake(lake: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another catalog named by PULSE_CATALOG over the same data dir, at the same snapshot number:
    the pages read that lake, never the cached copy of the other one."""
    from queries import pages as q

    d = DataDir(tmp_path / "data")
    shutil.copytree(lake.root, d.root)
    totals = "select count(*), sum(count_events) from mart_engagement_daily"
    with q.reader(d) as con:  # the default lake's snapshot 2, cached
        default = con.sql(totals).fetchall()
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    monkeypatch.setenv("PULSE_CATALOG", f"sqlite:{tmp_path / 'other' / 'catalog.sqlite'}")
    monkeypatch.setenv("PULSE_DATA_PATH", str(tmp_path / "other" / "data"))
    refresh(Settings(), d, settle_seconds=0)  # snapshot 1: every landing file
    extra = d.stream_landing("engagement") / "extra.csv"
    extra.write_text(
        "event_id,event_time,user_id,event_type,video_id,hashtags,province,age_band,language\n"
        "extra-1,2026-11-20T12:00:00Z,u-extra,view,v1,#MentalWellBeing,KH-12,18-24,km\n"
    )
    refresh(Settings(), d, settle_seconds=0)  # snapshot 2 of the other lake
    assert published_snapshot_id(d) == "2"
    with published(d) as con:
        expected = con.sql(totals).fetchall()
    assert expected != default
    with q.reader(d) as con:
        assert con.sql(totals).fetchall() == expected


def test_readers_of_a_snapshot_keep_reading_it_after_its_cache_file_is_pruned(
    lake: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dashboard's connections to one snapshot (queries.pages.Readers) open more connections as
    sessions need them; two refreshes later the snapshot's cache file is pruned, and a new
    connection still reads that snapshot (and the one the session asked for, not a newer one)."""
    from queries import pages as q
    from queries.lake_cache import open_cached

    d = DataDir(tmp_path / "data")
    shutil.copytree(lake.root, d.root)
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    totals = "select count(*), sum(count_events) from mart_engagement_daily"
    with q.reader(d) as con:
        before = con.sql(totals).fetchall()
    readers = q.Readers(d, "2")
    try:
        for i in (1, 2):  # snapshots 3 and 4, each read once: snapshot 2's cache file goes
            (d.stream_landing("engagement") / f"extra-{i}.csv").write_text(
                "event_id,event_time,user_id,event_type,video_id,hashtags,province,age_band,language\n"
                f"extra-{i},2026-11-20T12:00:00Z,u-extra,view,v1,#MentalWellBeing,KH-12,18-24,km\n"
            )
            refresh(Settings(), d, settle_seconds=0)
            open_cached(Settings(), d).close()
        assert not readers.path.exists()
        with readers.connection() as one, readers.connection() as two:  # the second is a new connection
            assert one.sql(totals).fetchall() == two.sql(totals).fetchall() == before
        assert readers.snapshot == "2"
    finally:
        readers.close()


def test_another_hmac_key_stops_a_refresh_of_the_lake(
    lake: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key guard reads the fingerprint the lake records (on a copy: the module's lake stays)."""
    from pipelines.secrets import HmacKeyError, fingerprint

    d = DataDir(tmp_path / "data")
    shutil.copytree(lake.root, d.root)
    monkeypatch.setenv("PULSE_HMAC_KEY", "another-key-0123456789abcdef0123456789ab")
    (d.landing / "engagement" / "late.csv").write_text("event_id,event_time,user_id,event_type\n")
    with pytest.raises(HmacKeyError) as e:
        refresh(Settings(), d, settle_seconds=0)
    assert f"(fingerprint {fingerprint(KEY.encode())}, this key's " in str(e.value)


def test_the_lake_writes_its_data_files_with_zstd(lake: DataDir) -> None:
    files = [p for p in (lake.root / "lake" / "data").rglob("*.parquet") if not p.name.endswith("-delete.parquet")]
    assert files
    con = connect_lake(Settings(), lake)
    try:
        codecs = {
            c
            for (c,) in con.execute(
                "select distinct compression from parquet_metadata($f)", {"f": [str(p) for p in files]}
            ).fetchall()
        }
    finally:
        con.close()
    assert codecs == {"ZSTD"}
