"""`pulse serve` for real: a local Prefect server, scheduled runs that publish what lands
between them, the server's API reporting them completed, and nothing left after SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PULSE

INTERVAL = 15  # seconds between scheduled runs (`--interval`; `schedule.cron` is for production)


def batch_csv(k: int, good: int) -> str:
    """`good` new views, one re-sent event of the previous batch (or of this one), one bad row."""
    rows = ["event_id,event_time,user_id,event_type,video_id,hashtags"]
    rows += [f"b{k}-{i},2026-11-20T10:{i % 60:02d}:00Z,u{i},view,v{i % 7},#MentalWell" for i in range(good)]
    rows.append(f"b{max(k - 1, 0)}-0,2026-11-20T11:00:00Z,u0,view,v0,")  # a duplicate event_id
    rows.append(f"b{k}-bad,2026-11-20T11:00:00Z,u1,wave,v1,")  # unknown event_type: quarantined
    return "\n".join(rows) + "\n"


def outcomes(root: Path) -> list[dict]:
    path = root / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every live process below `pid` (start time tells a reused pid apart)."""
    parent: dict[int, int] = {}
    start: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(stat.parent.name)
        parent[p], start[p] = int(fields[1]), fields[19]
    found, frontier = {}, [pid]
    while frontier:
        p = frontier.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in found:
                found[child] = start[child]
                frontier.append(child)
    return found


def alive(pid: int, started: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


def api(url: str, path: str, body: dict | None = None) -> object:
    req = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_serve_runs_on_schedule_and_stops_cleanly(tmp_path: Path, clean_env: dict[str, str]) -> None:
    root = tmp_path / "data"
    landing = root / "landing" / "engagement"
    landing.mkdir(parents=True)
    sizes = [40, 25, 30]
    (landing / "batch0.csv").write_text(batch_csv(0, sizes[0]))
    env = {
        **clean_env,
        "PULSE_HMAC_KEY": "serve-test-key-0123456789abcdef0123456789",
        # test speed only: the runner polls for due runs and the server schedules them more often
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    }
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (closed in finally)
    serve = subprocess.Popen(
        [str(PULSE), "--data-dir", str(root), "serve", "--interval", str(INTERVAL), "--settle", "0"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    seen: dict[int, str] = {}

    def wait_for(condition, what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen.update(descendants(serve.pid))
            if condition():
                return
            assert serve.poll() is None, f"pulse serve exited: {(tmp_path / 'serve.log').read_text()[-3000:]}"
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}: {(tmp_path / 'serve.log').read_text()[-3000:]}")

    try:
        published = lambda: [o for o in outcomes(root) if o["published"]]  # noqa: E731
        for k, good in enumerate(sizes):
            if k:
                (landing / f"batch{k}.csv").write_text(batch_csv(k, good))
            wait_for(lambda k=k: len(published()) > k, f"batch {k} to be published")
        state = json.loads((root / "serve.json").read_text())
        status = subprocess.run(
            [str(PULSE), "--data-dir", str(root), "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        status_json = json.loads(status.stdout)
        flow_runs = api(
            state["api_url"],
            "/flow_runs/filter",
            {"flows": {"name": {"any_": ["refresh"]}}, "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
        )
        deployment = api(state["api_url"], f"/deployments/name/{state['deployment']}")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            code = serve.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            code = "killed after 90 s"
        log.close()
    out = (tmp_path / "serve.log").read_text()

    # every batch was published by one scheduled run, with the counts it holds
    runs = published()
    assert all(o["outcome"] == "success" and o["trigger"] == "schedule" for o in runs)
    got = [tuple(o["streams"]["engagement"][c] for c in ("read", "loaded", "duplicates")) for o in runs[: len(sizes)]]
    got_q = [o["streams"]["engagement"]["quarantined"] for o in runs[: len(sizes)]]
    assert got == [(good + 2, good, 1) for good in sizes]
    assert got_q == [{"total": 1, "by_reason": {"event_type: unknown value": 1}}] * len(sizes)
    assert len(runs) == len(sizes)  # nothing published twice
    # while serving, `pulse status` knew the schedule
    assert status_json["next_run"] is not None and status_json["schedule"]["interval_seconds"] == INTERVAL
    assert status_json["streams"]["engagement"]["rows"] == sum(sizes)
    # the Prefect server saw the scheduled runs complete, all from our deployment
    ours = [r for r in flow_runs if r["deployment_id"] == deployment["id"]]
    assert len(ours) >= len(sizes), flow_runs
    assert deployment["concurrency_limit"] == 1 or deployment["global_concurrency_limit"]["limit"] == 1
    # SIGTERM: a clean exit, the UI address was printed, nothing it started is left
    assert code == 0, out[-3000:]
    assert f"Prefect UI: http://127.0.0.1:{state['api_url'].split(':')[2].split('/')[0]}" in out
    assert len(seen) >= 2  # at least the server and one flow-run process were watched
    assert [pid for pid, started in seen.items() if alive(pid, started)] == []
    assert not (root / "serve.json").exists()
    # the schedule is left active, not paused, for the next `pulse serve`
    with sqlite3.connect(root / "prefect" / "server.db") as db:
        paused, active = db.execute(
            "select d.paused, s.active from deployment d join deployment_schedule s on s.deployment_id = d.id "
            "where d.id = ?",
            [deployment["id"]],
        ).fetchall()[0]
    assert (paused, active) == (0, 1)
