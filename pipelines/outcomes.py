"""Refresh outcomes: what can be retried, the one line an operator reads, and the append-only
runs log (`DATA_DIR/runs.jsonl`, read by `core.runlog`) that keeps failures visible,
since a failed run publishes nothing into a snapshot.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
from typing import Any

import duckdb

from core.datadir import DataDir
from core.errors import PulseError
from core.lake import redacted
from core.runlog import RunOutcome, read_outcomes

log = logging.getLogger("pulse.outcomes")

# OS errors that go away on their own or when an operator frees space: worth a retry.
TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EBUSY, errno.ETXTBSY, errno.EINTR}
# DuckDB reports the same conditions as IOException text (a full disk, a file locked
# by another process).
TRANSIENT_DUCKDB = (
    "No space left on device",
    "Could not set lock on file",
    "Resource temporarily unavailable",
    "database is locked",  # the lake's SQLite catalog, held by another writer
)


class TransientError(PulseError):
    """An environmental error that a later attempt may not meet (disk full, a locked file)."""


def is_transient(exc: BaseException) -> bool:
    """Worth a retry: a full disk, a busy or locked file. Never a validation or config error."""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, PulseError):
        return False
    if isinstance(exc, OSError):
        return exc.errno in TRANSIENT_ERRNOS
    if isinstance(exc, duckdb.IOException):
        return any(text in str(exc) for text in TRANSIENT_DUCKDB)
    return False


def is_environmental(exc: BaseException) -> bool:
    """An error of the machine (disk, permissions, read-only file system), not a bug."""
    return isinstance(exc, OSError | duckdb.IOException | duckdb.PermissionException)


def one_line(exc: BaseException) -> str:
    """What an operator reads in `pulse status`, the banner and the Prefect UI (the values of
    the secret variables, PGPASSWORD, AWS_SECRET_ACCESS_KEY…, masked whatever quoted them)."""
    return redacted(_one_line(exc))


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, PulseError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        what = exc.strerror or str(exc)
        hint = {
            errno.ENOSPC: "free disk space under the data dir",
            errno.EDQUOT: "free disk space under the data dir",
            errno.EROFS: "the data dir is on a read-only file system; make it writable",
            errno.EACCES: "the data dir is not writable by this user; fix its permissions",
            errno.EPERM: "the data dir is not writable by this user; fix its permissions",
        }.get(exc.errno or 0, "check the data dir")
        return f"{what}{where}; {hint}, the next run retries"
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}"


def record(d: DataDir, outcome: str, trigger: str, reason: str | None = None, result: dict | None = None) -> None:
    """Append one outcome as one line (one write() on an O_APPEND file). Best effort: a read-only
    or full disk must not hide the refresh's own error."""
    line = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "outcome": outcome,
        "trigger": trigger,
        "reason": reason,
        "snapshot_id": (result or {}).get("snapshot_id"),
        "published": bool((result or {}).get("published")),
        "streams": ({s: result[s] for s in ("engagement", "referral", "safety") if s in result} if result else None),
    }
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        fd = os.open(d.runs_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            end = os.fstat(fd).st_size
            if os.write(fd, data) != len(data):  # a nearly full disk took part of the line: take it back
                os.ftruncate(fd, end)
                raise OSError(errno.ENOSPC, "No space left on device")
        finally:
            os.close(fd)
    except OSError as e:
        log.warning("could not record the refresh outcome in %s: %s", d.runs_log, e.strerror)


def prune_outcomes(d: DataDir, keep_days: int, now: dt.datetime | None = None) -> int:
    """Drop outcomes older than `keep_days`, but always keep the last success and failure.
    Rewrites the log with an atomic rename; returns how many lines were dropped."""
    outcomes = read_outcomes(d)
    if not outcomes:
        return 0
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=keep_days)
    last = {o.outcome: o for o in outcomes}
    kept = [o for o in outcomes if o.at >= cutoff or last.get(o.outcome) is o]
    if len(kept) == len(outcomes):
        return 0
    tmp = d.runs_log.with_name(f".{d.runs_log.name}.{os.getpid()}")
    tmp.write_text("".join(json.dumps(_as_json(o), ensure_ascii=False) + "\n" for o in kept), encoding="utf-8")
    os.replace(tmp, d.runs_log)
    return len(outcomes) - len(kept)


def _as_json(o: RunOutcome) -> dict[str, Any]:
    return {
        "at": o.at.isoformat(timespec="milliseconds"),
        "outcome": o.outcome,
        "trigger": o.trigger,
        "reason": o.reason,
        "snapshot_id": o.snapshot_id,
        "published": o.published,
        "streams": o.streams,
    }
