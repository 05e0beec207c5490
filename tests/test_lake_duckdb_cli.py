"""DuckDB's own CLI (PyPI duckdb-cli, the pinned version) reads the embedded lake read-only
while `pulse serve` refreshes it and another process holds a reader on it: the README's two
lines, run as written, count the rows `pulse status --json` shows, and nothing is downloaded."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import PULSE, REPO
from tests.test_crash_and_concurrency import KEY, batches, land

__all__ = ["batches"]
INTERVAL = 5
OFFLINE = {  # any download would have to go through these: a closed port
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
}
HOLD_READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from core.datadir import DataDir
    from queries.warehouse import published
    with published(DataDir(Path(sys.argv[1]))) as con:  # one lake transaction, held open
        print(con.sql("select count(*) from engagement_events").fetchall()[0][0], flush=True)
        time.sleep(600)
    """
)


def readme_lines() -> str:
    """The two lines of the README's "Reading the warehouse with DuckDB's CLI"."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Reading the warehouse with DuckDB's CLI", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block is not None
    lines = block[1].strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(".venv/bin/duckdb ")
    return "\n".join(lines)


@pytest.mark.slow
def test_duckdb_cli_counts_what_status_shows_while_serve_runs(batches, tmp_path: Path, clean_env) -> None:
    src, a, b = batches
    from core.datadir import DataDir

    d = DataDir(tmp_path / "data").ensure()
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the README's paths, from tmp_path
    env = {
        **clean_env,
        "PULSE_HMAC_KEY": KEY,
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
    }
    cli_env = {**clean_env, **OFFLINE}
    script = readme_lines()

    def cli_count() -> int:
        res = subprocess.run(
            ["bash", "-c", script.replace('duckdb -c "', 'duckdb -csv -noheader -c "')],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        return int(res.stdout.strip())

    def status() -> dict:
        res = subprocess.run(
            [str(PULSE), "--data-dir", "data", "status", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    land(src, d, a)
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (closed in finally)
    serve = subprocess.Popen(
        [str(PULSE), "--data-dir", "data", "serve", "--interval", str(INTERVAL), "--settle", "0"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    reader = None

    def wait_for(condition, what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}: {(tmp_path / 'serve.log').read_text()[-3000:]}")

    def published() -> int:
        path = d.root / "runs.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return sum(1 for line in lines if json.loads(line)["published"])

    try:
        wait_for(lambda: published() >= 1, "A to be published")
        reader = subprocess.Popen(
            [sys.executable, "-c", HOLD_READER, str(d.root)],
            cwd=REPO,
            env=os.environ,
            stdout=subprocess.PIPE,
            text=True,
        )
        held = int(reader.stdout.readline())  # the reader holds its transaction from here on
        after_a = status()["streams"]["engagement"]["rows"]
        assert cli_count() == after_a == held > 0

        land(src, d, b)  # the next scheduled run loads B while the CLI reads
        answers = []
        deadline = time.monotonic() + 300
        while published() < 2 and time.monotonic() < deadline:
            answers.append(cli_count())
        wait_for(lambda: published() >= 2, "B to be published")
        after_b = status()["streams"]["engagement"]["rows"]
        assert after_b > after_a
        assert set(answers) <= {after_a, after_b} and answers  # a whole snapshot each time, never half a load
        assert cli_count() == after_b
        assert reader.poll() is None  # the held reader was never in the way
    finally:
        if reader is not None:
            reader.kill()
            reader.wait()
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()
    # `pulse duckdb` prepares the same: this data dir's lake, read-only, extensions by path
    res = subprocess.run(
        [str(PULSE), "--data-dir", "data", "duckdb", "-c", "select count(*) from engagement_events"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert f"│ {after_b:>12} │" in res.stdout, res.stdout
    printed = subprocess.run(
        [str(PULSE), "--data-dir", "data", "duckdb", "--print"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
    ).stdout
    assert (
        f"ATTACH 'ducklake:sqlite:{d.root}/lake/catalog.sqlite' AS lake (DATA_PATH '{d.root}/lake/data/', " in printed
    )
    assert "READ_ONLY); USE lake;" in printed and "/duckdb_extension_ducklake/extensions/v1.5.5/" in printed
    assert not (Path(clean_env["HOME"]) / ".duckdb").exists()  # no extension was installed or downloaded


def test_the_catalog_is_in_wal_mode_so_readers_never_wait_for_a_commit(tmp_path: Path, monkeypatch) -> None:
    """In rollback-journal mode a commit locked the catalog (~30 ms) and a reader then failed
    with 'database is locked' (the sqlite scanner does not wait); in WAL mode readers read on."""
    import sqlite3

    from core.datadir import DataDir
    from core.lake import connect_lake
    from core.settings import Settings

    d = DataDir(tmp_path / "data").ensure()
    connect_lake(Settings(), d).close()
    db = sqlite3.connect(d.root / "lake" / "catalog.sqlite")
    try:
        assert db.execute("pragma journal_mode").fetchall() == [("wal",)]
    finally:
        db.close()
