"""The refresh as users run it: a real Prefect flow run, and `pulse refresh` / `pulse status`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.settings import Settings
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.lake_write import refresh_lock

SPEC = DemoSpec(days=14, scale=0.05, seed=9, end=dt.date(2026, 11, 24))


@pytest.fixture
def demo_dir(tmp_path: Path):
    d = DataDir(tmp_path / "data").ensure()
    return d, write_demo_data(Settings(), d, SPEC)


def expected_counts(manifest) -> dict[str, tuple[int, int, int, int]]:
    return {
        s: (m["rows"], m["good_events"], m["duplicate_rows"], m["bad_rows"]) for s, m in manifest["streams"].items()
    }


def got_counts(result) -> dict[str, tuple[int, int, int, int]]:
    return {
        s: (result[s]["read"], result[s]["loaded"], result[s]["duplicates"], result[s]["quarantined"]["total"])
        for s in ("engagement", "referral", "safety")
    }


def test_the_prefect_flow_runs_and_is_recorded(prefect_api, demo_dir) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from pipelines.flows import refresh

    d, manifest = demo_dir
    state = refresh(str(d.root), None, 0.0, return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert got_counts(result) == expected_counts(manifest)
    with get_client(sync_client=True) as client:
        run = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )[0]
        assert run.state.is_completed()
        tasks = client.read_task_runs()
        names = {t.name.rsplit("-", 1)[0] for t in tasks if t.flow_run_id == run.id}
        assert names == {"discover, read, validate, stage and commit"}  # one task: a retry discovers again


def test_the_flow_fails_with_one_line_when_another_refresh_runs(prefect_api, demo_dir) -> None:
    from pipelines.flows import refresh

    d, _ = demo_dir
    held = refresh_lock(d, 0)
    try:
        state = refresh(str(d.root), None, 0.0, 0.1, return_state=True)
    finally:
        held.release()
    assert state.is_failed()
    assert state.message == (
        f"another refresh is running on {d.root} (waited 0.1 s); try again when it ends, or pass --wait SECONDS"
    )


def test_pulse_refresh_and_status_through_the_console_script(pulse, tmp_path: Path) -> None:
    r = pulse(
        "--data-dir", "data", "demo-data", "--days", "14", "--scale", "0.05", "--seed", "9", "--end", "2026-11-24"
    )
    assert r.code == 0, r.err
    manifest = json.loads((tmp_path / "data" / "demo-manifest.json").read_text())
    before = pulse("status", "--data-dir", "data")
    assert before.out == f"Nothing published yet in {tmp_path / 'data'}; run 'pulse refresh'.\n"

    r = pulse("refresh", "--json", "--settle", "0", "--data-dir", "data")
    assert r.code == 0, r.err
    result = json.loads(r.out)  # exactly one JSON object on stdout
    assert got_counts(result) == expected_counts(manifest)
    assert result["published"] is True and result["files"]["new"] == len(manifest["files"])
    assert "Traceback" not in r.err and "http" not in r.err.lower()  # quiet and offline
    assert (tmp_path / "data" / "prefect").is_dir()  # Prefect's state lives in the data dir
    assert not (tmp_path / "home" / ".prefect").exists()

    st = pulse("status", "--json", "--data-dir", "data")
    assert st.code == 0, st.err
    status = json.loads(st.out)
    assert status["snapshot_id"] == result["snapshot_id"]
    catalog = tmp_path / "data" / "lake" / "catalog.sqlite"  # the lake's catalog, by its absolute path
    assert status["warehouse"] == f"sqlite:{catalog}" and catalog.is_file()
    assert {s: v["rows"] for s, v in status["streams"].items()} == {
        s: m["good_events"] for s, m in manifest["streams"].items()
    }
    assert status["quarantine"] == {
        "rows": sum(m["bad_rows"] for m in manifest["streams"].values()),
        "unreadable_files": 1,
    }
    assert status["last_day"] == "2026-11-24"

    human = pulse("status", "--data-dir", "data")
    assert human.out.startswith(f"Published snapshot {result['snapshot_id']}: {status['warehouse']}\n")


def test_pulse_refresh_exits_with_one_line_when_busy(pulse, tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    held = refresh_lock(d, 0)
    try:
        r = pulse("refresh", "--data-dir", str(d.root), "--wait", "0.3")
    finally:
        held.release()
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f"Error: another refresh is running on {d.root} (waited 0.3 s); try again when it ends, or pass --wait SECONDS\n"
    )
