"""`pulse migrate` and the first refresh after the upgrade (issue 16, point 3), on a data dir
built by release 1 itself (duckdb 2.0.1 snapshot files; tests/data/README-legacy.md), which
the pinned duckdb 1.5.5 cannot open: the migration reads it through uv with duckdb 2.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tarfile
from pathlib import Path

import duckdb
import pytest

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import connect_lake, lake_tables
from core.settings import load_settings
from pipelines.marts import MARTS
from pipelines.migrate import migrate, migrate_if_needed
from pipelines.refresh import refresh
from queries.status import snapshot_status
from queries.warehouse import legacy_snapshot, published
from tests.conftest import REPO, read_landing_file
from tests.test_refresh import write_file

FIXTURE = REPO / "tests" / "data" / "legacy-datadir-release1.tar.gz"
LEGACY_SNAPSHOT = "pulse-20261201T162922553377Z-6f0f25.duckdb"  # what release 1's CURRENT names
# rows per table in release 1's published snapshot (duckdb 2.0.1 counted them; README-legacy.md)
RELEASE1_ROWS = {
    "alert_incidents": 0,
    "alert_messages": 0,
    "engagement_events": 1670,
    "file_ledger": 47,
    "mart_activity_hourly": 532,
    "mart_campaign_creators": 11,
    "mart_engagement_daily": 1502,
    "mart_engagement_people_daily": 1194,
    "mart_people_movers": 0,
    "mart_people_returns": 1045,
    "mart_referral_daily": 120,
    "mart_safety_daily": 100,
    "mart_state": 1,
    "mart_totals_daily": 985,
    "partner_releases": 6688,
    "quarantine_rows": 68,
    "referral_events": 120,
    "refresh_runs": 2,
    "safety_events": 119,
    "user_numbers": 730,
    "warehouse_meta": 1,
}
RELEASE1_PEOPLE = {"engagement": 730, "referral": 105, "safety": 108}  # distinct user_key per stream
STATUS_KEYS = (
    "streams",
    "first_day",
    "last_day",
    "last_refresh",
    "refreshes_published",
    "files_processed",
    "quarantine",
)
UV_CACHE = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")  # duckdb 2.0.1 is there once fetched


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Release 1's data dir and what release 1 said about it, unpacked into tmp_path/legacy."""
    root = tmp_path / "legacy"
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(root, filter="data")
    monkeypatch.setenv("PULSE_CONFIG", str(REPO / "campaign.toml"))
    monkeypatch.setenv("UV_CACHE_DIR", UV_CACHE)
    for name in ("PULSE_HMAC_KEY", "PULSE_CATALOG", "PULSE_DATA_PATH", "PULSE_UV"):
        monkeypatch.delenv(name, raising=False)
    return root


def lake_env(root: Path) -> dict[str, str]:
    return {
        "PULSE_DATA_DIR": str(root / "data"),
        "PULSE_CONFIG": str(REPO / "campaign.toml"),
        "UV_CACHE_DIR": UV_CACHE,
    }


def test_the_pinned_duckdb_cannot_read_release_1s_files(legacy: Path) -> None:
    # the measured fact the migration is built around
    with pytest.raises(duckdb.IOException, match="version number 999, but we can only read versions between 64 and 68"):
        duckdb.connect(str(legacy / "data" / "warehouse" / LEGACY_SNAPSHOT), read_only=True)


def test_migrate_carries_every_table_and_status_says_what_release_1_said(legacy: Path) -> None:
    settings, d = load_settings(), DataDir(legacy / "data")
    result = migrate(settings, d)
    assert (result.status, result.snapshot, result.lake_snapshot_id) == ("migrated", LEGACY_SNAPSHOT, "1")
    assert result.read_with == "duckdb 2.0.1 (uv)"
    assert result.tables == RELEASE1_ROWS
    assert result.message == (
        f"migrated {LEGACY_SNAPSHOT} into the lake (snapshot 1): 21 tables, 14,935 rows; "
        f"the snapshot files stay in {d.warehouse}"
    )
    con = connect_lake(settings, d)
    try:
        tables = {
            t: con.sql(f"select count(*) from {t}").fetchall()[0][0]
            for (t,) in con.sql(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        }
        meta = con.sql("select name, value from warehouse_meta order by 1").fetchall()
        commits = con.sql(
            "select snapshot_id, author, commit_message from ducklake_snapshots(current_database()) order by 1"
        ).fetchall()
    finally:
        con.close()
    assert tables == {**RELEASE1_ROWS, "warehouse_meta": 2}
    assert [name for name, _ in meta] == ["hmac_key_fingerprint", "migrated_from"]
    assert meta[1][1] == LEGACY_SNAPSHOT
    assert [(s, a, m) for s, a, m in commits][1:] == [(1, "pulse migrate", "pulse migrate")]
    release1 = json.loads((legacy / "status.json").read_text(encoding="utf-8"))
    now = snapshot_status(d, settings)
    assert {k: now[k] for k in STATUS_KEYS} == {k: release1[k] for k in STATUS_KEYS}
    assert now["snapshot_id"] == "1"
    # the legacy files are left in place
    assert legacy_snapshot(d) == d.warehouse / LEGACY_SNAPSHOT and legacy_snapshot(d).is_file()
    assert not list(d.warehouse.glob(".migrate-*"))


def test_user_keys_survive_bit_for_bit(legacy: Path) -> None:
    settings, d = load_settings(), DataDir(legacy / "data")
    migrate(settings, d)
    key = (d.secrets / "hmac.key").read_text(encoding="ascii").strip().encode("ascii")
    landed = read_landing_file(d.landing / "engagement/2026/10/22/engagement_20261022.csv")
    expected = {
        e: hmac.new(key, u.strip(" ").encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        for e, u in zip(landed["event_id"], landed["user_id"], strict=True)
        if e and u and u.strip(" ")
    }
    con = connect_lake(settings, d)
    try:
        stored = dict(
            con.execute(
                "select event_id, replace(user_key::varchar, '-', '') from engagement_events "
                "where list_contains($ids, event_id)",
                {"ids": list(expected)},
            ).fetchall()
        )
        people = {
            s: con.sql(f"select count(distinct user_key) from {s}_events").fetchall()[0][0] for s in RELEASE1_PEOPLE
        }
        numbered = con.sql("select count(distinct user_key), count(*) from user_numbers").fetchall()[0]
    finally:
        con.close()
    assert len(stored) == 57  # that day's events in the warehouse, each with its 128-bit key
    assert stored == {e: expected[e] for e in stored}
    assert people == RELEASE1_PEOPLE  # distinct people as release 1 counted them
    assert numbered == (730, 730)


def test_the_ledger_comes_over_so_no_landing_file_is_read_again(legacy: Path) -> None:
    settings, d = load_settings(), DataDir(legacy / "data")
    migrate(settings, d)
    result = refresh(settings, d, settle_seconds=0)
    # release 1 had fewer marts: this refresh builds the others from the events carried over
    assert (result.published, result.snapshot_id) == (True, "2")
    assert result.files["new"] == 0 and result.files["skipped_seen"] == 47
    assert all(c.read == 0 for c in result.streams.values())
    assert snapshot_status(d, settings)["files_processed"] == 47
    with published(d) as con:
        assert {m.name for m in MARTS} <= lake_tables(con)
    again = refresh(settings, d, settle_seconds=0)
    assert (again.published, again.snapshot_id) == (False, "2")


def test_partner_export_is_byte_identical_to_release_1s(legacy: Path, pulse) -> None:
    env = lake_env(legacy)
    assert pulse("migrate", env=env).code == 0
    out = legacy / "after.csv"
    r = pulse(
        "export", "--partner", "tpo-cambodia", "--from", "2026-10-05", "--to", "2026-10-25", "--out", str(out), env=env
    )
    assert r.code == 0, r.err
    assert out.read_bytes() == (legacy / "export-tpo-cambodia.csv").read_bytes()


def test_a_second_migrate_does_nothing(legacy: Path, pulse) -> None:
    env = lake_env(legacy)
    first = pulse("migrate", "--json", env=env)
    assert first.code == 0, first.err
    assert json.loads(first.out)["status"] == "migrated"
    second = pulse("migrate", "--json", env=env)
    assert second.code == 0, second.err
    assert json.loads(second.out) == {
        "status": "already",
        "message": f"the lake was already migrated from {LEGACY_SNAPSHOT}; nothing done",
        "data_dir": str(legacy / "data"),
        "snapshot": LEGACY_SNAPSHOT,
        "lake_snapshot_id": "1",
        "read_with": None,
        "tables": {},
        "seconds": 0.0,
    }
    third = pulse("migrate", env=env)
    assert (third.code, third.out) == (0, f"The lake was already migrated from {LEGACY_SNAPSHOT}; nothing done.\n")
    assert migrate_if_needed(load_settings(), DataDir(legacy / "data")) is None  # the refresh's check, too


def test_a_refresh_on_a_legacy_dir_migrates_first(legacy: Path) -> None:
    settings, d = load_settings(), DataDir(legacy / "data")
    row = {
        "event_id": "after-upgrade-1",
        "event_time": "2026-10-25T05:00:00Z",
        "user_id": "someone-new",
        "event_type": "view",
        "video_id": "v1",
        "hashtags": "#MentalWell",
        "province": "KH-12",
        "age_band": "18-24",
        "language": "km",
    }
    write_file(d, "engagement/2026/10/26/after-upgrade.jsonl", [row, {**row, "event_id": "after-upgrade-2"}])
    result = refresh(settings, d, settle_seconds=0)
    assert result.files["new"] == 1 and result.files["skipped_seen"] == 47
    assert (result.streams["engagement"].read, result.streams["engagement"].loaded) == (2, 2)
    assert result.snapshot_id == "2"
    status = snapshot_status(d, settings)
    assert status["streams"]["engagement"]["rows"] == 1672
    assert (status["files_processed"], status["refreshes_published"]) == (48, 3)
    con = connect_lake(settings, d)
    try:
        authors = con.sql("select author from ducklake_snapshots(current_database()) order by snapshot_id").fetchall()
        releases = con.sql("select count(*) from partner_releases").fetchall()[0][0]
    finally:
        con.close()
    assert [a for (a,) in authors][1:] == ["pulse migrate", "pulse refresh"]
    assert releases == 6688 + 0  # released weeks stay as they were (no new week came due)


def test_a_lake_that_holds_refreshes_is_never_mixed_with_a_snapshot_file(legacy: Path, pulse) -> None:
    settings, d = load_settings(), DataDir(legacy / "data")
    pointer = d.warehouse / "CURRENT"
    aside = pointer.with_name("CURRENT.aside")
    pointer.rename(aside)  # a lake built by a refresh of its own (a lake made by a refresh before any migration)
    refresh(settings, d, settle_seconds=0)
    aside.rename(pointer)
    assert migrate_if_needed(settings, d) is None  # the refresh goes on with the lake it has
    r = pulse("migrate", env=lake_env(legacy))
    assert r.code == 1
    assert r.err == (
        f"Error: the lake (sqlite:{d.root / 'lake' / 'catalog.sqlite'}) already holds 1 published refresh; "
        f"{LEGACY_SNAPSHOT} is not migrated into it (the two would mix)\n"
    )


def test_no_legacy_warehouse_is_said_and_nothing_done(tmp_path: Path, pulse) -> None:
    d = DataDir(tmp_path / "fresh").ensure()
    r = pulse("migrate", env={"PULSE_DATA_DIR": str(d.root)})
    assert (r.code, r.err) == (0, "")
    assert r.out == f"No legacy warehouse in {d.root} (no warehouse/CURRENT): nothing to migrate.\n"
    assert not (d.root / "lake").exists()


def test_a_table_the_version_does_not_know_stops_the_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a snapshot file the pinned DuckDB can open is read in-process; an unknown table is one line
    d = DataDir(tmp_path / "data").ensure()
    con = duckdb.connect(str(d.warehouse / "pulse-1.duckdb"))
    con.execute("create table file_ledger as select 1 as x where false")
    con.execute("create table mystery (x integer)")
    con.close()
    (d.warehouse / "CURRENT").write_text("pulse-1.duckdb\n", encoding="utf-8")
    with pytest.raises(PulseError) as e:
        migrate(load_settings(REPO / "campaign.toml"), d)
    assert str(e.value) == "pulse-1.duckdb has a table this version does not know: mystery; nothing migrated"


def test_uv_that_cannot_run_is_one_line(legacy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_UV", str(legacy / "no-such-uv"))
    with pytest.raises(PulseError) as e:
        migrate(load_settings(), DataDir(legacy / "data"))
    assert str(e.value).startswith(
        f"could not run {legacy / 'no-such-uv'} to read {LEGACY_SNAPSHOT} with duckdb 2.0.1: "
    )
    assert "\n" not in str(e.value)


def test_a_migration_killed_before_its_commit_leaves_the_lake_as_it_was(legacy: Path, pulse) -> None:
    env = lake_env(legacy)
    killed = pulse("migrate", env={**env, "PULSE_FAULT_KILL_AT": "migrate_before_commit"})
    assert killed.code == -9
    d = DataDir(legacy / "data")
    assert list(d.warehouse.glob(".migrate-*"))  # its export, left by the kill
    assert migrate_if_needed(load_settings(), d) is not None  # nothing was committed: it runs again, whole
    assert not list(d.warehouse.glob(".migrate-*"))
    status = snapshot_status(d, load_settings())
    assert (status["snapshot_id"], status["files_processed"], status["refreshes_published"]) == ("1", 47, 2)


def test_after_migration_another_hmac_key_still_stops_a_refresh(legacy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, d = load_settings(), DataDir(legacy / "data")
    migrate(settings, d)
    write_file(d, "engagement/2026/10/26/late.csv", [{"event_id": "late-1", "event_time": "2026-10-25T05:00:00Z"}])
    monkeypatch.setenv("PULSE_HMAC_KEY", "another key of at least thirty-two bytes, not the one")
    with pytest.raises(PulseError, match="does not match the one this warehouse was built with"):
        refresh(settings, d, settle_seconds=0)
