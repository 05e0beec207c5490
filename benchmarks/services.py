"""The scale-out tests' and benchmark's services, started by themselves: Debian's PostgreSQL (initdb and
pg_ctl in a temporary folder, on a free loopback port, as an unprivileged user) and an
S3-compatible endpoint on loopback (moto's server mode, standing in for the real object store).

`.ci/setup --services` installs Debian's `postgresql` when it is missing; moto comes from the
dev dependency group (uv.lock). Nothing here is skipped: a service that cannot start raises
ServiceError with the reason (the end of its log), and the test that needed it fails.

    with running_postgres() as pg, running_s3() as s3:
        catalog = "postgres:" + pg.create_database("lake_a")   # the password comes from pg.env
        data_path = s3.create_bucket("lake-a") + "data/"
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

START_SECONDS = 30


class ServiceError(RuntimeError):
    """A test service could not start (or be used); the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server programs (the newest installed), else the one of
    the `initdb` on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name), reverse=True
    )
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise ServiceError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH); run .ci/setup --services"
        )
    return Path(initdb).resolve().parent


def _unprivileged_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, its programs run as `postgres` (made by
    Debian's package) or else `nobody`; as anyone else, as that user (None)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise ServiceError("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


@dataclass
class Postgres:
    """A running PostgreSQL: superuser `user` with `password` (given to clients via PGPASSWORD)."""

    root: Path
    bin: Path
    port: int
    runas: str | None
    user: str = "pulse"
    host: str = "127.0.0.1"
    password: str = field(default_factory=lambda: "pg-" + secrets.token_hex(12))

    @property
    def env(self) -> dict[str, str]:
        """What a client needs in its environment: the password, never in a connection string."""
        return {"PGPASSWORD": self.password}

    def conninfo(self, dbname: str) -> str:
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its connection string (without the password)."""
        self._client("createdb", name)
        return self.conninfo(name)

    def sql(self, dbname: str, statement: str) -> str:
        """Run one statement with psql; its output, unaligned, without headers."""
        return self._client("psql", "-d", dbname, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement)

    def _client(self, program: str, *args: str) -> str:
        p = subprocess.run(
            [str(self.bin / program), "-h", self.host, "-p", str(self.port), "-U", self.user, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if p.returncode != 0:
            raise ServiceError(f"{program} {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def _run(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.runas, "--"] if self.runas else []
        return subprocess.run(
            [*prefix, *cmd], capture_output=True, text=True, timeout=timeout, cwd=self.root, env=_pg_env()
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")


def _pg_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def start_postgres() -> Postgres:
    """initdb a new cluster in a temporary folder and start it on a free loopback port
    (password authentication, durability off: a test database). ServiceError when it cannot."""
    bindir = postgres_bin()
    runas = _unprivileged_user()
    # as root, under /tmp: the unprivileged user must reach it (a TMPDIR may be root's alone)
    root = Path(tempfile.mkdtemp(prefix="pulse-pg-", dir="/tmp" if runas else None))
    pg = Postgres(root=root, bin=bindir, port=0, runas=runas)
    try:
        (root / "pwfile").write_text(pg.password + "\n", encoding="utf-8")
        if runas:
            entry = pwd.getpwnam(runas)
            for p in (root, root / "pwfile"):
                os.chown(p, entry.pw_uid, entry.pw_gid)
        init = pg._run(
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            pg.user,
            "--auth=scram-sha-256",
            f"--pwfile={root / 'pwfile'}",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if init.returncode != 0:
            raise ServiceError(f"initdb failed ({init.returncode}): {(init.stderr or init.stdout).strip()[-800:]}")
        (root / "pwfile").unlink()
        for _attempt in range(3):  # a free port can be taken between the probe and the start
            pg.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {pg.port} -c unix_socket_directories={root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
            )
            started = pg._run(
                str(bindir / "pg_ctl"),
                "-D",
                str(root / "data"),
                "-l",
                str(root / "postgres.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(START_SECONDS),
                "start",
                timeout=START_SECONDS + 10,
            )
            if started.returncode == 0:
                return pg
        log = (root / "postgres.log").read_text(errors="replace") if (root / "postgres.log").exists() else ""
        raise ServiceError(f"pg_ctl start failed: {(started.stderr or started.stdout).strip()} {log.strip()[-800:]}")
    except BaseException:
        with contextlib.suppress(Exception):
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(pg.root, ignore_errors=True)


@dataclass
class S3:
    """moto's S3 server on loopback, with the credentials a client passes in the standard variables."""

    endpoint: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path
    region: str = "us-east-1"
    access_key_id: str = "pulse-test-access-key"
    secret_access_key: str = field(default_factory=lambda: "s3-secret-" + secrets.token_hex(16))

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def client(self):
        import boto3  # moto's own dependency

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def create_bucket(self, name: str) -> str:
        """A new, empty bucket; returns its address `s3://name/`."""
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}/"

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_s3(folder: Path) -> S3:
    """moto's server (`python -m moto.server`) on a free loopback port, its log in `folder`;
    ServiceError when it does not answer within START_SECONDS."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "moto.log"
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    s3 = S3(endpoint=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"moto's server exited ({process.returncode}): {log.read_text(errors='replace')[-800:]}")
        try:
            with urllib.request.urlopen(f"{s3.endpoint}/moto-api/", timeout=2):
                return s3
        except OSError:
            time.sleep(0.2)
    s3.stop()
    raise ServiceError(f"moto's server did not answer on {s3.endpoint} in {START_SECONDS} s: {log.read_text()[-800:]}")


@contextlib.contextmanager
def running_s3(folder: Path) -> Iterator[S3]:
    s3 = start_s3(folder)
    try:
        yield s3
    finally:
        s3.stop()
