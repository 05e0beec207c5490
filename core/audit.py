"""The audit log: who signed in (or failed to, or was locked out, or timed out, or signed
out) and who exported what, when. Append-only (SQLite triggers refuse UPDATE and DELETE).

It records account names, actions and a short detail such as a page or a file name, never
user-level data and never a password. Call `record` from anywhere that signs someone in or
writes an export:

    from core import audit
    audit.record(data_dir, "tpo-manager", audit.EXPORT, "pulse export --partner tpo-cambodia -> march.csv")
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from core.authdb import connect
from core.datadir import DataDir

log = logging.getLogger("pulse.audit")

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"  # wrong password or unknown account
SIGN_IN_LOCKED = "sign_in_locked"  # refused: the account is locked after too many failures
SIGN_IN_REFUSED = "sign_in_refused"  # SSO e-mail not in the mapping
SESSION_EXPIRED = "session_expired"
SESSION_ENDED = "session_ended"  # the account was removed or its role changed while signed in
SIGN_OUT = "sign_out"
EXPORT = "export"  # a CSV download in the dashboard, or `pulse export`
ACCOUNT_ADDED = "account_added"
ACCOUNT_REMOVED = "account_removed"
PASSWORD_RESET = "password_reset"
ACCOUNT_UNLOCKED = "account_unlocked"
ACTIONS = frozenset(
    {
        SIGN_IN,
        SIGN_IN_FAILED,
        SIGN_IN_LOCKED,
        SIGN_IN_REFUSED,
        SESSION_EXPIRED,
        SESSION_ENDED,
        SIGN_OUT,
        EXPORT,
        ACCOUNT_ADDED,
        ACCOUNT_REMOVED,
        PASSWORD_RESET,
        ACCOUNT_UNLOCKED,
    }
)
MAX_DETAIL = 300


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: dt.datetime  # UTC
    account: str | None
    action: str
    detail: str


def record(
    data_dir: DataDir, account: str | None, action: str, detail: str = "", *, now: dt.datetime | None = None
) -> None:
    """Append one entry: `account` is the account name (or the name/e-mail that was typed, for
    a failed sign-in; None when unknown), `action` one of ACTIONS, `detail` a short text (a
    page, a file name, a reason), cut to 300 characters. Never pass a password or user data."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    detail = detail.replace("\n", " ")[:MAX_DETAIL]
    with connect(data_dir) as con:
        con.execute(
            "insert into audit_log (at, account, action, detail) values (?, ?, ?, ?)",
            (at.isoformat(timespec="milliseconds"), account, action, detail),
        )
    log.info("audit %s account=%s %s", action, account, detail)


def entries(data_dir: DataDir, limit: int = 200, account: str | None = None) -> list[AuditEntry]:
    """The latest entries first (optionally of one account)."""
    with connect(data_dir) as con:
        rows = con.execute(
            "select audit_id, at, account, action, detail from audit_log"
            " where (? is null or account = ?) order by audit_id desc limit ?",
            (account, account, limit),
        ).fetchall()
    return [AuditEntry(i, dt.datetime.fromisoformat(at), a, act, det) for i, at, a, act, det in rows]
