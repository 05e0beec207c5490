"""The accounts database: one SQLite file, `DATA_DIR/accounts/accounts.sqlite`, shared by the
CLI (`pulse users`) and every dashboard session. WAL mode and a busy timeout let many readers
and one writer at a time work without "database is locked"; every connection is short-lived.

Tables: `accounts`, `sign_in_failures` (per typed name and client) and `client_failures`
(per client) (see core/accounts.py), and `audit_log` (see core/audit.py), which
triggers make append-only.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from core.datadir import DataDir
from core.errors import PulseError

DB_NAME = "accounts.sqlite"

SCHEMA = """
create table if not exists accounts (
    name text primary key,
    role text not null check (role in ('policy', 'partner', 'admin')),
    partner_id text,
    password_hash text not null,
    count_failed_sign_ins integer not null default 0,
    locked_until text,
    created_at text not null,
    updated_at text not null,
    language text,
    check ((role = 'partner') = (partner_id is not null))
);
create table if not exists sign_in_failures (
    name text not null,
    client text not null,
    count_failed integer not null default 0,
    locked_until text,
    last_failed_at text not null,
    primary key (name, client)
);
create table if not exists client_failures (
    client text primary key,
    window_start text not null,
    count_failed integer not null default 0,
    blocked_until text
);
create table if not exists audit_log (
    audit_id integer primary key autoincrement,
    at text not null,
    account text,
    action text not null,
    detail text not null default ''
);
create trigger if not exists audit_log_no_update before update on audit_log
begin select raise(abort, 'audit_log is append-only'); end;
create trigger if not exists audit_log_no_delete before delete on audit_log
begin select raise(abort, 'audit_log is append-only'); end;
"""


# Columns added since the first release, for accounts files made before them.
ADDED_COLUMNS = {"accounts": {"language": "text"}}


def _add_columns(con: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in con.execute(f"pragma table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                try:
                    con.execute(f"alter table {table} add column {name} {kind}")
                except sqlite3.OperationalError as e:  # another process added it first
                    if "duplicate column" not in str(e):
                        raise


def db_path(d: DataDir) -> Path:
    return d.accounts / DB_NAME


@contextmanager
def connect(d: DataDir) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (use `with con:` or BEGIN IMMEDIATE for transactions);
    creates the folder (0700), the file and the schema on first use."""
    path = db_path(d)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=10, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        raise PulseError(f"{path}: cannot open the accounts database ({e}); check the data dir's permissions") from None
    with closing(con):
        con.execute("pragma busy_timeout = 10000")
        con.execute("pragma journal_mode = wal")
        con.execute("pragma foreign_keys = on")
        con.executescript(SCHEMA)
        _add_columns(con)
        if path.exists():
            os.chmod(path, 0o600)
        yield con
