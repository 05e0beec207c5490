"""Run outcomes outside the snapshot: retries only for what can be transient, failures visible
in `pulse status` and the dashboard banner, housekeeping of old outcomes and flow runs."""

from __future__ import annotations

import datetime as dt
import errno
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core.datadir import DataDir
from core.errors import PulseError
from core.runlog import last_outcomes, read_outcomes
from core.settings import Settings
from pipelines import outcomes, publish
from pipelines import refresh as r
from pipelines.lake_write import RefreshBusy, refresh_lock
from queries.status import freshness
from queries.warehouse import published, published_snapshot_id
from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build
from tests.test_dashboard_pages import sign_in

KEY = "outcomes-test-key-0123456789abcdef01234567"
CSV = "event_id,event_time,user_id,event_type,video_id\n" + "".join(
    f"e{i},2026-11-20T10:00:00Z,u{i},view,v1\n" for i in range(20)
)


@pytest.fixture
def landed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataDir:
    monkeypatch.setenv("PULSE_HMAC_KEY", KEY)
    d = DataDir(tmp_path / "data").ensure()
    (d.stream_landing("engagement") / "a.csv").write_text(CSV)
    return d


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "lake/catalog.sqlite")


def full_disk_at_commit(fail: int = 1_000_000):
    """A stand-in for pipelines.publish.fault_point that fails the first `fail` commits of a
    load with a full disk, right before the lake's COMMIT (inside publish, whose transaction
    is then rolled back); the calls it saw."""
    calls: list[str] = []

    def point(name: str) -> None:
        if name == "before_commit":
            calls.append(name)
            if len(calls) <= fail:
                full_disk()

    return point, calls


def lake_rows(d: DataDir) -> dict[str, int]:
    with published(d) as con:
        return {
            t: con.sql(f"select count(*) from {t}").fetchall()[0][0]
            for t in ("engagement_events", "file_ledger", "refresh_runs")
        }


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EAGAIN, "Resource temporarily unavailable"), True),
        (duckdb.IOException('Could not write file "x.duckdb": No space left on device'), True),
        (duckdb.IOException('Could not set lock on file "x.duckdb": Conflicting lock is held'), True),
        (duckdb.IOException("Failed to commit DuckLake transaction: database is locked"), True),
        (OSError(errno.EROFS, "Read-only file system"), False),
        (duckdb.IOException("Cannot open file: No such file or directory"), False),
        (PulseError("engagement: event_type: unknown value"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_transient_errors_are_retried(exc: BaseException, transient: bool) -> None:
    assert outcomes.is_transient(exc) is transient


def test_outcomes_are_recorded_and_a_failed_run_publishes_nothing(landed: DataDir, monkeypatch) -> None:
    d = landed
    first = r.refresh(Settings(), d, settle_seconds=0)
    rows = lake_rows(d)
    (d.stream_landing("engagement") / "b.csv").write_text(CSV.replace("e", "f"))
    point, _ = full_disk_at_commit()
    monkeypatch.setattr(publish, "fault_point", point)
    with pytest.raises(outcomes.TransientError) as failed:
        r.refresh(Settings(), d, trigger="schedule", settle_seconds=0)
    assert str(failed.value) == (
        "No space left on device (lake/catalog.sqlite); free disk space under the data dir, the next run retries"
    )
    assert published_snapshot_id(d) == first.snapshot_id and lake_rows(d) == rows  # untouched
    held = refresh_lock(d, 0)
    try:
        with pytest.raises(RefreshBusy):
            r.refresh(Settings(), d, settle_seconds=0)
    finally:
        held.release()
    got = [(o.outcome, o.trigger, o.published, o.reason and o.reason[:22]) for o in read_outcomes(d)]
    assert got == [
        ("success", "manual", True, None),
        ("failure", "schedule", False, "No space left on devic"),
        ("skipped", "manual", False, "another refresh is run"),
    ]
    success, failure = last_outcomes(d)
    assert success.streams["engagement"]["loaded"] == 20 and failure.trigger == "schedule"


def test_the_flow_retries_a_full_disk_with_backoff_but_never_a_validation_error(
    prefect_api, landed: DataDir, monkeypatch
) -> None:
    from pipelines.flows import refresh

    d = landed
    full_twice, calls = full_disk_at_commit(fail=2)
    monkeypatch.setattr(publish, "fault_point", full_twice)
    state = refresh(str(d.root), None, 0.0, return_state=True)
    assert state.is_completed(), state.message
    assert len(calls) == 3 and state.result()["engagement"]["loaded"] == 20

    (d.stream_landing("engagement") / "b.csv").write_text(CSV.replace("e", "g"))
    checks = []

    def invalid(con, name):
        checks.append(name)
        raise PulseError(f"snapshot {name}: engagement has 21 rows but the ledger accounts for 20")

    monkeypatch.setattr(publish, "check_counts", invalid)
    state = refresh(str(d.root), None, 0.0, trigger="schedule", return_state=True)
    assert state.is_failed() and len(checks) == 1  # not retried
    assert state.message.endswith("but the ledger accounts for 20")
    _, failure = last_outcomes(d)
    assert failure.reason == state.message


def test_status_json_shows_last_success_failure_and_next_run(pulse, landed: DataDir, tmp_path: Path) -> None:
    d = landed
    lines = [
        {"at": "2026-11-25T01:00:00.000+00:00", "outcome": "success", "trigger": "schedule", "published": True},
        {"at": "2026-11-25T02:00:00.000+00:00", "outcome": "failure", "trigger": "schedule", "reason": "disk full"},
        {"at": "2026-11-25T03:00:00.000+00:00", "outcome": "skipped", "trigger": "schedule", "reason": "busy"},
    ]
    d.runs_log.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"at": "torn')
    sleeper = subprocess.Popen(["sleep", "60"])  # a live pid standing in for `pulse serve`
    try:
        d.serve_state.write_text(
            json.dumps(
                {
                    "pid": sleeper.pid,
                    "timezone": "Asia/Phnom_Penh",
                    "cron": "*/15 * * * *",
                    "interval_seconds": None,
                    "anchor": "2026-11-25T08:00:00+07:00",
                    "api_url": "http://127.0.0.1:4200/api",
                    "ui_url": "http://127.0.0.1:4200",
                    "deployment": "refresh/pulse-data-0",
                }
            )
        )
        before = dt.datetime.now(dt.UTC)
        res = pulse("status", "--json", "--data-dir", str(d.root), env={"PULSE_HMAC_KEY": KEY})
        human = pulse("status", "--data-dir", str(d.root))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert res.code == 0, res.err
    st = json.loads(res.out)
    assert st["last_success"] == "2026-11-25T01:00:00+00:00"
    assert st["last_failure"] == {"at": "2026-11-25T02:00:00+00:00", "reason": "disk full"}
    next_run = dt.datetime.fromisoformat(st["next_run"])
    assert next_run.minute % 15 == 0 and next_run.second == 0
    assert dt.timedelta(0) < next_run - before.replace(microsecond=0) <= dt.timedelta(minutes=15)
    assert st["schedule"]["cron"] == "*/15 * * * *" and st["schedule"]["pid"] == sleeper.pid
    assert human.out.splitlines()[1:] == [
        "  last successful run 2026-11-25T01:00:00+00:00",
        "  last failed run 2026-11-25T02:00:00+00:00: disk full",
        f"  next run {st['next_run']} (pulse serve pid {sleeper.pid}, Prefect http://127.0.0.1:4200)",
    ]
    # a dead `pulse serve` is no schedule
    assert json.loads(pulse("status", "--json", "--data-dir", str(d.root)).out)["next_run"] is None


def test_freshness_turns_stale_after_two_intervals_and_names_the_failure(tmp_path: Path) -> None:
    d = build(tmp_path / "data")
    fresh = freshness(d, Settings())
    published_at = fresh.last_success
    assert not fresh.is_stale and fresh.limit == dt.timedelta(hours=2) and fresh.failure_at is None
    late = freshness(d, Settings(), now=published_at + dt.timedelta(hours=2, seconds=1))
    assert late.is_stale
    outcomes.record(d, "failure", "schedule", "No space left on device; free disk space")
    failed = freshness(d, Settings(), now=published_at + dt.timedelta(hours=3))
    assert failed.is_stale and failed.failure_reason == "No space left on device; free disk space"
    outcomes.record(d, "success", "schedule", result={"published": False})
    ok = freshness(d, Settings())
    assert not ok.is_stale and ok.failure_at is None and ok.last_success > published_at


def test_the_banner_is_red_with_the_reason_when_stale(tmp_path: Path, monkeypatch) -> None:
    d = build(tmp_path / "data")
    add_accounts(d.root, {"admin-test": ACCOUNTS["admin-test"]})
    outcomes.record(d, "failure", "schedule", "data dir is read-only; make it writable")
    # a served schedule of 5 ms makes the fixture's fresh snapshot older than two intervals
    sleeper = subprocess.Popen(["sleep", "60"])
    d.serve_state.write_text(
        json.dumps(
            {
                "pid": sleeper.pid,
                "timezone": "Asia/Phnom_Penh",
                "cron": None,
                "interval_seconds": 0.005,
                "anchor": "2026-11-25T08:00:00+07:00",
                "api_url": "http://127.0.0.1:4200/api",
                "ui_url": None,
                "deployment": "refresh/x",
            }
        )
    )
    monkeypatch.setenv("PULSE_DATA_DIR", str(d.root))
    monkeypatch.chdir(REPO)
    try:
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
        at.run()
        sign_in(at, "admin-test")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert not at.exception
    assert len(at.error) == 1
    assert "longer than two scheduled intervals" in at.error[0].value
    assert at.error[0].value.endswith(": data dir is read-only; make it writable")


def test_housekeeping_prunes_old_outcomes_and_flow_runs(prefect_api, landed: DataDir) -> None:
    from prefect import flow, get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.states import Completed, Scheduled

    from pipelines.housekeeping import prune_data_dir, prune_flow_runs

    d = landed
    now = dt.datetime.now(dt.UTC)
    old = (now - dt.timedelta(days=40)).isoformat()
    lines = [
        {"at": old, "outcome": "success", "trigger": "schedule"},
        {"at": old, "outcome": "success", "trigger": "schedule"},
        {"at": old, "outcome": "failure", "trigger": "schedule", "reason": "x"},
        {"at": now.isoformat(), "outcome": "success", "trigger": "schedule"},
    ]
    d.runs_log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert prune_data_dir(Settings(), d)["outcomes_removed"] == 2
    assert [o.outcome for o in read_outcomes(d)] == ["failure", "success"]  # the last failure is kept

    @flow(name="refresh")
    def stand_in() -> None: ...

    with get_client(sync_client=True) as client:
        ids = {}
        for label, days in (("old", 40), ("recent", 1)):
            fr = client.create_flow_run(stand_in, state=Scheduled(scheduled_time=now - dt.timedelta(days=days)))
            client.set_flow_run_state(fr.id, Completed(), force=True)
            ids[label] = fr.id
        assert prune_flow_runs(30) >= 1
        remaining = {
            fr.id
            for fr in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(ids.values()))))
        }
    assert ids["old"] not in remaining and ids["recent"] in remaining


def test_the_documented_backup_restores_a_working_data_dir(landed: DataDir, tmp_path: Path) -> None:
    """README "Back up and restore": the lake's catalog (SQLite's online backup), then its data
    files (immutable: every file the copied catalog names is there), secrets, runs.jsonl, landing."""
    from pipelines import refresh as r
    from queries.status import snapshot_status

    d = landed
    r.refresh(Settings(), d, settle_seconds=0)
    backup = tmp_path / "backup"
    (backup / "lake").mkdir(parents=True)
    src, dst = sqlite3.connect(d.root / "lake" / "catalog.sqlite"), sqlite3.connect(backup / "lake" / "catalog.sqlite")
    try:
        src.backup(dst)  # what `sqlite3 catalog.sqlite ".backup …"` does
    finally:
        src.close()
        dst.close()
    shutil.copytree(d.root / "lake" / "data", backup / "lake" / "data")
    assert not d.secrets.exists()  # the key is in PULSE_HMAC_KEY here; else copy secrets/ too
    shutil.copytree(d.landing, backup / "landing")
    shutil.copy2(d.runs_log, backup / "runs.jsonl")
    restored = DataDir(backup).ensure()
    before, after = snapshot_status(d, Settings()), snapshot_status(restored, Settings())
    assert after["streams"] == before["streams"] and after["snapshot_id"] == before["snapshot_id"]
    again = r.refresh(Settings(), restored, settle_seconds=0)
    assert (again.published, again.files["new"], again.files["skipped_seen"]) == (False, 0, 1)
