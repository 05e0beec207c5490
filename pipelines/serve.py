"""`pulse serve`: the refresh on a schedule, on a Prefect server that keeps schedules.

Without PREFECT_API_URL a local `prefect server start` runs as a child process in its own
process group (loopback only, SQLite at DATA_DIR/prefect/server.db, log at
DATA_DIR/prefect/server.log); with it, that server is used (a team's server, Prefect Cloud).
Two deployments are served from this process: `refresh` on `schedule.cron` (or a fixed
interval) with a concurrency limit of one that cancels a colliding run, and a daily
`housekeeping`. On SIGTERM or Ctrl-C serving stops, the schedule stays active for the next
start, and the local server's whole process group is terminated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.datadir import DataDir
from core.errors import PulseError
from core.schedule import ServeState, serving
from core.settings import Settings

SERVER_START_SECONDS = 180.0  # healthy in ~11 s idle; much longer on a busy 2-core machine
STOP_SECONDS = 20.0
HOUSEKEEPING_CRON = "45 3 * * *"  # daily, campaign time, away from the hourly refresh at minute 5


class Stopped(BaseException):
    """SIGTERM arrived before Prefect's runner took over signal handling."""


@dataclass
class LocalServer:
    """A `prefect server start` child process, leader of its own process group."""

    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after STOP_SECONDS."""
        for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(self.process.pid):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.2)
            if not _group_alive(self.process.pid):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie leader still counts until it is reaped; reap it if it is ours
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_server(d: DataDir, port: int | None) -> LocalServer:
    """Start `prefect server start` on loopback; return once its health endpoint answers."""
    port = port or free_port()
    d.prefect_home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(d.prefect_home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{d.prefect_home / 'server.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL", None)
    log_path = d.prefect_home / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, never orphaned
        )
    server = LocalServer(process, port, log_path)
    try:
        _wait_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: LocalServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise PulseError(
                f"the local Prefect server exited with code {server.process.returncode} ({tail[0][:200]}); "
                f"see {server.log_path}, or pass --port if port {server.port} is taken"
            )
        try:
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise PulseError(
        f"the local Prefect server did not answer on port {server.port} within {SERVER_START_SECONDS:g} s; "
        f"see {server.log_path}"
    )


def deployment_name(d: DataDir) -> str:
    """Unique per data dir on a shared server, readable in its UI: pulse-<folder>-<hash>."""
    folder = re.sub(r"[^a-z0-9]+", "-", d.root.name.lower()).strip("-") or "data"
    return f"pulse-{folder}-{hashlib.sha256(str(d.root).encode()).hexdigest()[:8]}"


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Until Prefect's runner installs its own handler, SIGTERM unwinds through our `finally`."""

    def handler(signum: int, frame: object) -> None:
        raise Stopped()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(
    settings: Settings,
    d: DataDir,
    *,
    config: str | None,
    port: int | None,
    cron: str | None,
    interval: float | None,
    settle_seconds: float,
    echo: Callable[[str], None],
) -> None:
    """Serve the refresh on its schedule until SIGTERM or Ctrl-C."""
    if (running := serving(d)) is not None:
        raise PulseError(f"pulse serve already runs for {d.root} (pid {running.pid}); stop it first")
    cron = None if interval else (cron or settings.schedule.cron)
    server: LocalServer | None = None
    try:
        with _stop_on_sigterm():
            if os.environ.get("PREFECT_API_URL"):
                api_url, ui_url = os.environ["PREFECT_API_URL"], None
            else:
                echo(f"Starting a local Prefect server (state in {d.prefect_home}) …")
                server = start_local_server(d, port)
                api_url, ui_url = server.api_url, server.ui_url
                os.environ["PREFECT_API_URL"] = api_url  # before prefect is imported
            deployments = _deployments(settings, d, config, cron, interval, settle_seconds, shared=server is None)
        state = ServeState(
            pid=os.getpid(),
            timezone=settings.timezone,
            cron=cron,
            interval_seconds=interval,
            anchor=dt.datetime.now(settings.tz).isoformat(),
            api_url=api_url,
            ui_url=ui_url,
            deployment=f"refresh/{deployments[0].name}",
        )
        _write_state(d, state)
        every = f"cron '{cron}' in {settings.timezone}" if cron else f"every {interval:g} s"
        echo(f"Prefect UI: {ui_url}" if ui_url else f"Prefect API: {api_url}")
        echo(
            f"Serving refresh/{deployments[0].name} ({every}) for {d.root}; "
            f"next run {state.next_run().astimezone(settings.tz):%Y-%m-%d %H:%M:%S %Z}. Stop with Ctrl-C or SIGTERM."
        )
        _run(deployments)
    except Stopped:
        pass
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(d.serve_state.read_text()).get("pid") == os.getpid():
                d.serve_state.unlink()
        if server is not None:
            server.stop()
        echo("Stopped serving; the schedule stays active for the next 'pulse serve'.")


def _deployments(
    settings: Settings,
    d: DataDir,
    config: str | None,
    cron: str | None,
    interval: float | None,
    settle_seconds: float,
    shared: bool,
) -> list:
    """The two deployments, applied. On a shared server housekeeping only prunes their runs."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval

    from pipelines.flows import housekeeping, refresh

    name = deployment_name(d)
    schedule = (
        Cron(cron, timezone=settings.timezone)
        if cron
        else Interval(dt.timedelta(seconds=interval or 0), anchor_date=dt.datetime.now(settings.tz))
    )
    common = {"entrypoint_type": EntrypointType.MODULE_PATH, "tags": ["pulse"], "enforce_parameter_schema": False}
    refresh_deployment = refresh.to_deployment(
        name,
        schedules=[schedule],
        # never two refreshes at once: a run due while another runs is cancelled, not queued
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        parameters={"data_dir": str(d.root), "config": config, "settle_seconds": settle_seconds, "trigger": "schedule"},
        description=f"Wellbeing Pulse refresh of {d.root}",
        **common,
    )
    housekeeping_deployment = housekeeping.to_deployment(
        name,
        schedules=[Cron(HOUSEKEEPING_CRON, timezone=settings.timezone)],
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        parameters={"data_dir": str(d.root), "config": config},
        description=f"Wellbeing Pulse housekeeping of {d.root}",
        **common,
    )
    if shared:
        ids = [str(dep.apply()) for dep in (refresh_deployment, housekeeping_deployment)]
        housekeeping_deployment.parameters["deployment_ids"] = ids
    return [refresh_deployment, housekeeping_deployment]


def _run(deployments: list) -> None:
    from prefect import serve as prefect_serve

    # pause_on_shutdown=False: a stopped serve must not leave the schedule paused
    prefect_serve(*deployments, pause_on_shutdown=False, print_starting_message=False)


def _write_state(d: DataDir, state: ServeState) -> None:
    tmp = d.serve_state.with_name(f".{d.serve_state.name}.{os.getpid()}")
    tmp.write_text(json.dumps(state.to_json()), encoding="utf-8")
    os.replace(tmp, d.serve_state)
