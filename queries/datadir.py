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
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from queries.errors import DataDirError
from queries.reference import STREAMS

DATA_DIR_ENV = "PULSE_DATA_DIR"
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
        """Create the layout; raise DataDirError with one line if that is impossible."""
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
        return self

    def landing_is_empty(self) -> bool:
        return not any(p.is_file() for p in self.landing.rglob("*")) if self.landing.exists() else True

    def isolate_prefect(self) -> None:
        """Point Prefect's local state at this data dir, and keep it quiet and offline; use the
        Prefect server of a `pulse serve` running on this data dir if there is one.
        Call before prefect is imported; settings the user exported win, but PREFECT_HOME."""
        os.environ["PREFECT_HOME"] = str(self.prefect_home)
        for key, value in PREFECT_DEFAULTS.items():
            os.environ.setdefault(key, value)
        if "PREFECT_API_URL" not in os.environ:  # a running `pulse serve`'s server: its UI shows this run too
            from queries.schedule import serving

            if (state := serving(self)) is not None:
                os.environ["PREFECT_API_URL"] = state.api_url
