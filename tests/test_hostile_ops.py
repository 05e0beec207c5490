"""Issue 14, the operator's side: the HMAC key cannot change silently (6), a full disk or a
broken Prefect home fails with one recorded line and publishes nothing of the load (7), everything
under the data dir is private whatever the umask (8), and read-only commands never create a
mistyped data dir (12)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
from pathlib import Path

import duckdb
import pytest

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import lake_location
from core.runlog import read_outcomes
from core.settings import Settings
from pipelines import outcomes
from pipelines import refresh as r
from pipelines.secrets import KEY_ENV
from queries.warehouse import published, published_snapshot_id
from tests.conftest import PULSE
from tests.warehouse_edit import planted

KEY = "hostile-ops-key-0123456789abcdef0123456789"
OTHER_KEY = "another-key-entirely-0123456789abcdef012345"
LABEL = b"wellbeing-pulse: HMAC key fingerprint v1"


def csv(prefix: str, n: int = 20) -> str:
    return "event_id,event_time,user_id,event_type,video_id\n" + "".join(
        f"{prefix}{i},2026-11-20T10:00:00Z,u{i},view,v1\n" for i in range(n)
    )


def fingerprint(key: str) -> str:
    return hmac.new(key.encode(), LABEL, hashlib.sha256).hexdigest()[:16]


def land(d: DataDir, name: str, prefix: str) -> None:
    (d.stream_landing("engagement") / name).write_text(csv(prefix))


def refresh(d: DataDir, trigger: str = "manual"):
    return r.refresh(Settings(), d, trigger=trigger, settle_seconds=0)


def recorded_fingerprint(d: DataDir) -> list[tuple[str, str]]:
    with published(d) as con:
        return con.sql("select name, value from warehouse_meta where name = 'hmac_key_fingerprint'").fetchall()


def lake_state(d: DataDir) -> dict[str, object]:
    """What is published: the lake's snapshot, every table's row count, and the files under
    the data path (a refresh that stopped before its commit may leave orphan Parquet files,
    which housekeeping removes; none is part of what is published)."""
    with published(d) as con:
        tables = [
            t
            for (t,) in con.sql(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        ]
        counts = {t: con.sql(f"select count(*) from {t}").fetchall()[0][0] for t in sorted(tables)}
    return {"snapshot": published_snapshot_id(d), "rows": counts}


def data_files(d: DataDir) -> list[str]:
    root = Path(lake_location(Settings(), d).data_path)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def last_failure(d: DataDir) -> tuple[str, str | None]:
    o = read_outcomes(d)[-1]
    return o.outcome, o.reason


@pytest.fixture
def d(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataDir:
    monkeypatch.delenv(KEY_ENV, raising=False)
    return DataDir(tmp_path / "data").ensure()


# --- 6. the HMAC key ---------------------------------------------------------------------


def test_the_warehouse_records_the_key_fingerprint_and_another_key_stops_the_refresh(
    d: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    land(d, "a.csv", "a")
    refresh(d)
    assert recorded_fingerprint(d) == [("hmac_key_fingerprint", fingerprint(KEY))]
    with published(d) as con:  # the key itself is nowhere in the warehouse
        assert con.sql(
            "select count(*) from warehouse_meta where contains(value, $k)", params={"k": KEY[:16]}
        ).fetchall() == [(0,)]
    before, files = lake_state(d), data_files(d)

    monkeypatch.setenv(KEY_ENV, OTHER_KEY)
    land(d, "b.csv", "b")
    with pytest.raises(PulseError) as stopped:
        refresh(d)
    expected = (
        f"the HMAC key from {KEY_ENV} does not match the one this warehouse was built with "
        f"(fingerprint {fingerprint(KEY)}, this key's {fingerprint(OTHER_KEY)}); restore "
        f"{d.secrets / 'hmac.key'} from your backup or set {KEY_ENV} to the original key; nothing was loaded"
    )
    assert str(stopped.value) == expected
    assert last_failure(d) == ("failure", expected)
    assert lake_state(d) == before  # nothing published
    assert data_files(d) == files  # nor written: the key is checked before anything is staged

    monkeypatch.setenv(KEY_ENV, KEY)  # the original key back: the refresh goes on
    assert refresh(d).streams["engagement"].loaded == 20


def test_a_missing_key_file_is_regenerated_only_for_an_empty_warehouse(d: DataDir) -> None:
    path = d.secrets / "hmac.key"
    land(d, "a.csv", "a")
    refresh(d)  # empty warehouse: the key is made here
    key = path.read_text().strip()
    assert len(key) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert recorded_fingerprint(d) == [("hmac_key_fingerprint", fingerprint(key))]

    path.unlink()  # lost: a new key would count every person again
    land(d, "b.csv", "b")
    with pytest.raises(PulseError) as stopped:
        refresh(d)
    assert str(stopped.value) == (
        f"{path} is missing, and this warehouse was built with a key (fingerprint {fingerprint(key)}); "
        f"restore it from your backup or set {KEY_ENV} to the original key; a new key would count every person "
        "again, so none was made"
    )
    assert not path.exists()
    path.write_text(key + "\n")  # restored from the backup
    assert refresh(d).streams["engagement"].loaded == 20


@pytest.mark.parametrize("key", ["x", "k" * 31, "កូនសោ-short"])  # the Khmer one is 25 bytes, 11 characters
def test_a_key_from_the_environment_must_be_at_least_32_bytes(pulse, tmp_path: Path, key: str) -> None:
    land(DataDir(tmp_path / "data").ensure(), "a.csv", "a")
    res = pulse("refresh", "--settle", "0", "--data-dir", "data", env={KEY_ENV: key})
    n = len(key.encode())
    line = (
        f"Error: {KEY_ENV} is {n} bytes long; it must be at least 32 (for example the output of "
        "'openssl rand -hex 32'), and the same key for the life of the warehouse\n"
    )
    assert (res.code, res.err) == (1, line)
    runs = [json.loads(x) for x in (tmp_path / "data" / "runs.jsonl").read_text().splitlines()]
    assert [(o["outcome"], o["reason"]) for o in runs] == [("failure", line[len("Error: ") : -1])]
    assert published_snapshot_id(DataDir(tmp_path / "data")) is None  # nothing published


def test_a_scheduled_run_with_another_key_fails_with_the_same_line_and_no_retry(
    prefect_api, d: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.flows import refresh as flow

    monkeypatch.setenv(KEY_ENV, KEY)
    land(d, "a.csv", "a")
    assert flow(str(d.root), None, 0.0, trigger="schedule", return_state=True).is_completed()
    monkeypatch.setenv(KEY_ENV, OTHER_KEY)
    land(d, "b.csv", "b")
    state = flow(str(d.root), None, 0.0, trigger="schedule", return_state=True)
    assert state.is_failed()
    assert state.message.startswith(f"the HMAC key from {KEY_ENV} does not match the one this warehouse was built with")
    assert last_failure(d) == ("failure", state.message)
    assert [o.outcome for o in read_outcomes(d)] == ["success", "failure"]


def test_a_warehouse_built_before_fingerprints_adopts_the_current_key(d: DataDir, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    land(d, "a.csv", "a")
    refresh(d)
    # as a lake migrated from a snapshot published before fingerprints: pulse migrate makes
    # warehouse_meta (the refresh's schema), with no fingerprint row in it
    with planted(d) as con:
        con.execute("delete from warehouse_meta where name = 'hmac_key_fingerprint'")
    assert recorded_fingerprint(d) == []
    land(d, "b.csv", "b")
    assert refresh(d).streams["engagement"].loaded == 20
    assert recorded_fingerprint(d) == [("hmac_key_fingerprint", fingerprint(KEY))]
    monkeypatch.setenv(KEY_ENV, OTHER_KEY)  # from now on it is checked
    land(d, "c.csv", "c")
    with pytest.raises(PulseError, match="does not match the one this warehouse was built with"):
        refresh(d)


# --- 7. full disk, broken Prefect home ----------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """Mount a small tmpfs (tests run as root); yields a function to mount one at a folder."""
    mounted: list[Path] = []

    def mount(where: Path, size: str) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)], check=True)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(where: Path, leave: int) -> Path:
    """Fill a small file system but `leave` bytes."""
    st = os.statvfs(where)
    free = st.f_bavail * st.f_frsize
    filler = where / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


@pytest.mark.parametrize("broken", ["a file where its folder should be", "a full disk"])
def test_prefect_that_cannot_start_fails_with_one_recorded_line(pulse, tmp_path: Path, tiny_disk, broken: str) -> None:
    data = tmp_path / "data"
    land(DataDir(data).ensure(), "a.csv", "a")
    home = data / "prefect"
    if broken == "a full disk":
        tiny_disk(home, "1m")
        fill(home, 0)
        reason = (
            f"Prefect cannot keep its state in {home}: No space left on device; free disk space under the data dir, "
            "or set PREFECT_API_URL to a Prefect server"
        )
    else:
        home.write_text("not a folder")
        reason = (
            f"Prefect cannot keep its state in {home}: File exists; make it a folder this user can write, "
            "or set PREFECT_API_URL to a Prefect server"
        )
    res = pulse("refresh", "--settle", "0", "--data-dir", str(data), env={KEY_ENV: KEY})
    assert (res.code, res.err) == (1, f"Error: {reason}\n")
    runs = [json.loads(x) for x in (data / "runs.jsonl").read_text().splitlines()]
    assert [(o["outcome"], o["trigger"], o["reason"]) for o in runs] == [("failure", "manual", reason)]


@pytest.fixture
def small_lake(d: DataDir, tiny_disk):
    """The lake (catalog and data files) on a 24 MB file system of its own."""
    return tiny_disk(d.root / "lake", "24m")


def fill_the_lake_and_fail_twice(d: DataDir, monkeypatch, lake: Path) -> tuple[dict[str, object], list[str], Path]:
    """A first load published, then a disk with no room for the next load's data files: staging
    fails twice (what Prefect's retries do: load again). The state before, its files, the filler."""
    monkeypatch.setenv(KEY_ENV, KEY)
    land(d, "a.csv", "a")
    refresh(d)
    before, files = lake_state(d), data_files(d)
    filler = fill(lake, 0)
    land(d, "b.csv", "b")
    for _attempt in range(2):
        with pytest.raises(duckdb.IOException, match="No space left on device") as full:
            r.load(Settings(), d, 0)
        assert outcomes.is_transient(full.value)
        assert lake_state(d) == before  # nothing of the load is published
    return before, files, filler


def test_a_load_that_fills_the_disk_publishes_nothing_and_the_next_run_goes_through(
    d: DataDir, monkeypatch, small_lake: Path
) -> None:
    before, _, filler = fill_the_lake_and_fail_twice(d, monkeypatch, small_lake)
    with pytest.raises(outcomes.TransientError, match="No space left on device"):
        refresh(d)
    assert last_failure(d)[0] == "failure"
    assert lake_state(d) == before
    filler.unlink()  # the operator frees space: the next run goes through
    assert refresh(d).streams["engagement"].loaded == 20
    after = lake_state(d)
    assert after["snapshot"] != before["snapshot"] and after["rows"]["engagement_events"] == 40


def test_the_files_a_load_that_filled_the_disk_left_are_removed_by_housekeeping(
    d: DataDir, monkeypatch, small_lake: Path
) -> None:
    """Issue 16: a refresh that fails leaves orphan data files (partial Parquet files, never in
    the catalog); housekeeping removes them, and only them."""
    from pipelines.housekeeping import prune_data_dir

    before, files, filler = fill_the_lake_and_fail_twice(d, monkeypatch, small_lake)
    orphans = sorted(set(data_files(d)) - set(files))
    assert len(orphans) == 2  # one partial engagement_events file per attempt
    filler.unlink()
    prune_data_dir(Settings(), d)
    assert data_files(d) == files  # the orphans are gone, the published files all stay
    assert lake_state(d) == before


# --- 8. private files ---------------------------------------------------------------------


def not_private(root: Path) -> list[tuple[str, str]]:
    bad = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = Path(dirpath) / name
            if stat.S_IMODE(p.lstat().st_mode) != 0o700:
                bad.append((str(p.relative_to(root)), oct(stat.S_IMODE(p.lstat().st_mode))))
        for name in filenames:
            p = Path(dirpath) / name
            if stat.S_IMODE(p.lstat().st_mode) != 0o600:
                bad.append((str(p.relative_to(root)), oct(stat.S_IMODE(p.lstat().st_mode))))
    return bad


def test_everything_under_the_data_dir_is_private_whatever_the_umask(tmp_path: Path, clean_env) -> None:
    data = tmp_path / "data"
    old = os.umask(0o022)
    try:
        data.mkdir()  # made by hand before the first command: 0755
        (data / "warehouse").mkdir()
    finally:
        os.umask(old)

    def run(*args: str) -> None:
        p = subprocess.run(
            [str(PULSE), "--data-dir", str(data), *args],
            env={**clean_env},
            capture_output=True,
            text=True,
            preexec_fn=lambda: os.umask(0o022),  # the usual shell umask
            timeout=300,
        )
        assert p.returncode == 0, p.stderr

    run("demo-data", "--days", "7", "--scale", "0.02")
    run("refresh", "--settle", "0")
    run("users", "add", "ana", "--role", "policy")
    run("users", "demo")
    run("status")
    assert (data / "prefect").is_dir() and (data / "runs.jsonl").is_file() and (data / "secrets" / "hmac.key").is_file()
    assert any((data / "prefect").rglob("*.db"))
    assert not_private(data) == []
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


# --- 12. a mistyped data dir --------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["status", "--json"],
        ["users", "list"],
        ["export", "--partner", "tpo-cambodia", "--out", "-"],
        ["dashboard"],
    ],
)
def test_read_only_commands_do_not_create_a_mistyped_data_dir(pulse, tmp_path: Path, args: list[str]) -> None:
    typo = tmp_path / "dta"
    res = pulse(*args, "--data-dir", str(typo))
    assert (res.code, res.out, res.err) == (
        1,
        "",
        f"Error: no data directory at {typo}; check --data-dir or PULSE_DATA_DIR (a command that only "
        "reads never creates it; run 'pulse refresh' or 'pulse demo-data' to make one)\n",
    )
    assert not typo.exists()
