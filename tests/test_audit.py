"""The audit log: append-only, what was recorded comes back, no unknown actions."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from core import audit
from core.authdb import connect, db_path
from core.datadir import DataDir


def test_record_and_read_back(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    t = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
    audit.record(d, "ana", audit.SIGN_IN, "password", now=t)
    audit.record(d, "ana", audit.EXPORT, "referral_funnel_by_partner_20261010-20261124.csv", now=t)
    audit.record(d, "bo", audit.SIGN_IN_FAILED, "wrong password\nsecond line", now=t)
    latest = audit.entries(d)
    assert [(e.account, e.action, e.detail) for e in latest] == [
        ("bo", "sign_in_failed", "wrong password second line"),
        ("ana", "export", "referral_funnel_by_partner_20261010-20261124.csv"),
        ("ana", "sign_in", "password"),
    ]
    assert latest[0].at == t
    assert [e.action for e in audit.entries(d, account="ana")] == ["export", "sign_in"]
    assert oct(db_path(d).stat().st_mode & 0o777) == "0o600"


def test_log_is_append_only(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    audit.record(d, "ana", audit.SIGN_IN)
    with connect(d) as con, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("update audit_log set account = 'mallory'")
    with connect(d) as con, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("delete from audit_log")
    assert [e.account for e in audit.entries(d)] == ["ana"]


def test_unknown_action_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown audit action 'peek'"):
        audit.record(DataDir(tmp_path), "ana", "peek")


def test_long_detail_is_cut(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    audit.record(d, None, audit.EXPORT, "x" * 1000)
    assert len(audit.entries(d)[0].detail) == audit.MAX_DETAIL
