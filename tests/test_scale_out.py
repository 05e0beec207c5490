"""Scale-out storage (issue 17): the lake's catalog on PostgreSQL and its data files on
S3-compatible object storage, against a real PostgreSQL and a real S3 endpoint started by the
tests themselves (tests/services.py: Debian's PostgreSQL, moto's server standing in for the
object store). The same landing files refreshed into PostgreSQL + S3 and into the embedded lake
give the same counts, marts, partner releases and page figures; secrets never show."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.datadir import DataDir
from core.settings import Settings
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.refresh import refresh
from tests.services import S3, Postgres

KEY = "scale-out-test-key-0123456789abcdef01234567"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # both refreshes: the same weeks released
SPEC = DemoSpec(days=14, scale=0.05, seed=17, end=dt.date(2026, 11, 24))


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set, as it was afterwards."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def land(src: DataDir, d: DataDir) -> None:
    shutil.copytree(src.landing, d.landing, dirs_exist_ok=True)


class Lakes:
    """The embedded data dir and the scaled-out one (its lake in PostgreSQL and S3), both
    refreshed once from the same landing files."""

    def __init__(self, root: Path, pg: Postgres, s3: S3) -> None:
        self.pg, self.s3 = pg, s3
        self.src = DataDir(root / "src").ensure()
        write_demo_data(Settings(), self.src, SPEC)
        self.embedded = DataDir(root / "embedded" / "data").ensure()
        self.scaled = DataDir(root / "scaled" / "data").ensure()
        land(self.src, self.embedded)
        land(self.src, self.scaled)
        self.conninfo = pg.create_database("pulse_lake")
        self.catalog = f"postgres:{self.conninfo}"
        self.bucket = "pulse-lake"
        self.data_path = s3.create_bucket(self.bucket) + "warehouse/"
        with environ({"PULSE_HMAC_KEY": KEY}):
            self.embedded_result = refresh(Settings(), self.embedded, settle_seconds=0, now=NOW)
        with self.scaled_env():
            self.scaled_result = refresh(Settings(), self.scaled, settle_seconds=0, now=NOW)

    def scaled_env(self) -> contextlib.AbstractContextManager[None]:
        return environ(self.env())

    def env(self) -> dict[str, str]:
        """What a shell on a machine of the deployment has: where the lake is and the secrets."""
        return {
            "PULSE_HMAC_KEY": KEY,
            "PULSE_CATALOG": self.catalog,
            "PULSE_DATA_PATH": self.data_path,
            **self.pg.env,
            **self.s3.env,
        }

    @property
    def secrets(self) -> list[str]:
        return [self.pg.password, self.s3.secret_access_key]


@pytest.fixture(scope="module")
def lakes(postgres_server: Postgres, s3_server: S3, tmp_path_factory: pytest.TempPathFactory) -> Lakes:
    return Lakes(tmp_path_factory.mktemp("scale-out"), postgres_server, s3_server)


def test_the_services_are_real_and_the_password_is_needed(postgres_server: Postgres, s3_server: S3) -> None:
    """PostgreSQL runs as an unprivileged user on loopback and refuses a client without the
    password; moto's S3 answers on loopback."""
    pg = postgres_server
    assert pg.sql("postgres", "select current_user, inet_server_addr()").strip() == "pulse|127.0.0.1"
    if os.geteuid() == 0:
        assert (pg.root / "data").stat().st_uid != 0  # PostgreSQL refuses root: the cluster is another user's
    import subprocess

    denied = subprocess.run(
        [str(pg.bin / "psql"), "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", "postgres", "-c", "select 1"],
        env={k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"PGPASSWORD": "wrong"},
        capture_output=True,
        text=True,
    )
    assert denied.returncode == 2
    assert 'password authentication failed for user "pulse"' in denied.stderr
    address = s3_server.create_bucket("probe")
    assert address == "s3://probe/"
    s3_server.client().put_object(Bucket="probe", Key="a/b.txt", Body=b"x")
    assert s3_server.keys("probe") == ["a/b.txt"]
