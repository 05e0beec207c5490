"""The data directory: every piece of state lives below it, so two copies never share any.

Layout (created on first use):
    landing/<stream>/...   files dropped by exporters (input)
    warehouse/             published DuckDB snapshots and the pointer to the current one
    quarantine/            files that could not be read at all (metadata only)
    secrets/               the HMAC key generated on first run (mode 0600)
    accounts/              dashboard accounts and the audit log (accounts.sqlite, mode 0600)
    prefect/               PREFECT_HOME for flow runs started against this data dir
    runs.jsonl             one line per refresh outcome (success, failure, skipped), outside the snapshots
    serve.json             while `pulse serve` runs: its pid, schedule and Prefect API

Everything below it is private to the user that runs pulse: folders 0700, files 0600
(`ensure` and `existing` set the process umask to 077 and tighten the layout's folders).
Only commands that write create it (`ensure`); the others need it to exist (`existing`).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import DataDirError
from core.reference import STREAMS

DATA_DIR_ENV = "PULSE_DATA_DIR"
PRIVATE_UMASK = 0o077  # files 0600, folders 0700, whatever the caller's umask
PROBE_BYTES = 64 * 1024  # what Prefect's database needs at least to start
DEFAULT_DATA_DIR = Path("data")
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no telemetry, no network beyond loopback
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # the 20 s default fires under load
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class DataDir:
    root: Path

    @classmethod
    def resolve(cls, explicit: Path | None = None) -> DataDir:
        """`--data-dir`, else `PULSE_DATA_DIR`, else `./data`; always made absolute."""
        chosen = explicit or (Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else DEFAULT_DATA_DIR)
        return cls(chosen.expanduser().absolute())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def stream_landing(self, stream: str) -> Path:
        return self.landing / stream

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def accounts(self) -> Path:
        return self.root / "accounts"

    @property
    def prefect_home(self) -> Path:
        return self.root / "prefect"

    @property
    def runs_log(self) -> Path:
        return self.root / "runs.jsonl"

    @property
    def serve_state(self) -> Path:
        return self.root / "serve.json"

    @property
    def demo_manifest(self) -> Path:
        return self.root / "demo-manifest.json"

    def ensure(self) -> DataDir:
        """Create the layout, private; raise DataDirError with one line if that is impossible."""
        os.umask(PRIVATE_UMASK)
        dirs = [self.root, *(self.stream_landing(s) for s in STREAMS), self.warehouse, self.quarantine]
        try:
            for d in dirs:
                d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DataDirError(
                f"data dir {self.root}: cannot create {e.filename or d} ({e.strerror}); "
                f"pass --data-dir or set {DATA_DIR_ENV} to a folder you can write"
            ) from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise DataDirError(
                f"data dir {self.root}: not writable; pass --data-dir or set {DATA_DIR_ENV} to a folder you can write"
            )
        self._make_private()
        return self

    def existing(self) -> DataDir:
        """The data dir of a command that only reads: never created here, so a mistyped
        --data-dir is named instead of becoming a new, empty warehouse."""
        os.umask(PRIVATE_UMASK)
        if not self.root.is_dir():
            raise DataDirError(
                f"no data directory at {self.root}; check --data-dir or {DATA_DIR_ENV} (a command that only "
                "reads never creates it; run 'pulse refresh' or 'pulse demo-data' to make one)"
            )
        self._make_private()
        return self

    def _make_private(self) -> None:
        """Folders of the layout made before (or by another umask) become 0700; what is in
        them is then out of other users' reach whatever its own mode."""
        layout = [self.root, self.landing, *(self.stream_landing(s) for s in STREAMS), self.warehouse]
        layout += [self.quarantine, self.secrets, self.accounts, self.prefect_home]
        for d in layout:
            try:
                if d.is_dir() and not d.is_symlink() and d.stat().st_mode & 0o077:
                    d.chmod(0o700)
            except OSError:
                pass  # not ours to change (another owner, read-only file system): reading still works

    def prepare_prefect_home(self) -> None:
        """Check, before Prefect starts, that its state (a SQLite database) can live in
        prefect/: Prefect itself only times out after minutes, with pages of tracebacks."""
        home = self.prefect_home
        probe = home / f".pulse-probe-{os.getpid()}"
        try:
            home.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
            for db in home.glob("*.db"):
                os.close(os.open(db, os.O_RDWR))
        except OSError as e:
            hint = {
                errno.EEXIST: "make it a folder this user can write",
                errno.ENOTDIR: "make it a folder this user can write",
                errno.ENOSPC: "free disk space under the data dir",
                errno.EDQUOT: "free disk space under the data dir",
            }.get(e.errno or 0, "make it writable by this user")
            raise DataDirError(
                f"Prefect cannot keep its state in {home}: {e.strerror or e}; {hint}, "
                "or set PREFECT_API_URL to a Prefect server"
            ) from None

    def landing_is_empty(self) -> bool:
        return not any(p.is_file() for p in self.landing.rglob("*")) if self.landing.exists() else True
