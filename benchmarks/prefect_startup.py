"""Prefect's fixed start-up, in a fresh process as the scheduler pays it, in both modes:
- ephemeral: no server configured, Prefect starts its local API inside the process;
- server: against `prefect server start`, started here on a free loopback port, then stopped.
In each mode: a flow that does nothing (Prefect's own cost) and `pulse refresh` with
nothing new (Prefect plus ours: imports, lock, discovery, reading the ledger)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.browser import free_port
from benchmarks.refresh import BENCH_KEY
from core.datadir import PREFECT_DEFAULTS

BIN = Path(sys.executable).parent


def _env(prefect_home: Path, api_url: str | None) -> dict[str, str]:
    prefect_home.mkdir(parents=True, exist_ok=True)  # Prefect makes its database there, not the folder
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PULSE_"))}
    # the key the benchmark's warehouse was built with (benchmarks/refresh.py): without it a
    # refresh of that warehouse stops at the key guard
    env |= PREFECT_DEFAULTS | {"PREFECT_HOME": str(prefect_home), "PULSE_HMAC_KEY": BENCH_KEY}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return round(time.perf_counter() - started, 2)


def _both(work: Path, data_dir: Path, api_url: str | None) -> dict[str, float]:
    env = _env(work / "prefect-home", api_url)
    trivial = _timed([sys.executable, "-m", "benchmarks.trivial_flow"], env)
    ours = _timed([str(BIN / "pulse"), "--data-dir", str(data_dir), "refresh", "--settle", "0"], env)
    return {
        "trivial_flow_s": trivial,
        "pulse_refresh_nothing_new_s": ours,
        "ours_beyond_prefect_s": round(ours - trivial, 2),
    }


@contextmanager
def prefect_server(work: Path) -> Iterator[tuple[str, float]]:
    """`prefect server start` on a free loopback port; yields (API URL, seconds to healthy)."""
    port = free_port()
    log = work / "prefect-server.log"
    started = time.perf_counter()
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
            env=_env(work / "prefect-server-home", None),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole below
        )
    try:
        url = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"prefect server did not start; see {log}") from None
                time.sleep(0.25)
        yield url, round(time.perf_counter() - started, 2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run(work: Path, data_dir: Path) -> dict[str, Any]:
    """Both modes, on a data dir whose landing zone is already loaded (nothing new)."""
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"ephemeral": _both(work / "ephemeral", data_dir, None)}
    with prefect_server(work) as (url, healthy_s):
        out["server"] = {"server_healthy_after_s": healthy_s, **_both(work / "server", data_dir, url)}
    return out
