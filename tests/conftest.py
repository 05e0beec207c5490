"""Shared fixtures: the real `pulse` console script, temporary data dirs, landing-file readers."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from benchmarks.demo_data import read_landing_file  # noqa: F401  (the tests' reader of landing files)

REPO = Path(__file__).resolve().parent.parent
PULSE = Path(sys.executable).parent / "pulse"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment a user's shell would give: no PULSE_* or PREFECT_* leaking in, HOME in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "PREFECT_"))}
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)
    return env


@pytest.fixture
def pulse(tmp_path: Path, clean_env: dict[str, str]):
    """Run the installed console script in tmp_path; returns exit code, stdout, stderr."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str = "") -> Result:
        p = subprocess.run(
            [str(PULSE), *args],
            cwd=cwd or tmp_path,
            env={**clean_env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Result(p.returncode, p.stdout, p.stderr)

    return run


# Prefect, when a test imports it, keeps its state in a throwaway folder and stays offline.
os.environ.setdefault(
    "PREFECT_HOME", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"pulse-tests-prefect-{os.getpid()}")
)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_api():
    """One Prefect test server for the whole session; flows run in-process against it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def define_load_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The relations a full build hands to the mart SQL (pipelines/marts.py): new_<stream>_events
    the whole tables, no load_people, no rows before. For tests that run a mart's statement themselves."""
    from pipelines.marts import define_full_build_inputs

    define_full_build_inputs(con)


def _opens_a_browser(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return "playwright" in text or "benchmarks.browser" in text


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """For pytest-xdist's `--dist loadgroup` (`.ci/test` runs two workers): a test file runs
    whole on one worker, so its module fixtures are built once, and the files that drive
    Chromium run one after another on the same worker (two browsers and two dashboards at
    once would starve each other on two cores), while the other worker takes the rest."""
    seen: dict[Path, bool] = {}
    for item in items:
        path = Path(item.fspath)
        if path not in seen:
            seen[path] = _opens_a_browser(path)
        item.add_marker(pytest.mark.xdist_group("browser" if seen[path] else path.name))


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL of its own for the session (benchmarks/services.py): Debian's server, started with
    initdb and pg_ctl in a temporary folder on a free loopback port. Fails, never skips, when it
    cannot start."""
    from benchmarks.services import running_postgres

    with running_postgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """An S3-compatible endpoint on loopback for the session: moto's server mode, standing in for
    the real object store (benchmarks/services.py)."""
    from benchmarks.services import running_s3

    with running_s3(tmp_path_factory.mktemp("moto")) as s3:
        yield s3
