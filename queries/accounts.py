"""Dashboard accounts: local accounts with Argon2id password hashes, and the e-mail → role
mapping used with single sign-on. No Streamlit here: the CLI (`pulse users`) and the
dashboard (`dashboard/auth.py`) both call these functions.

Roles: `policy` (every policy page), `partner` (bound to one partner slug of the config:
only the partner pages, only its own data), `admin` (policy pages, data health, accounts).

Sign-in is rate-limited per account: after `auth.max_failed_sign_ins` failures in a row the
account is locked for `auth.lockout_minutes`; a locked account is refused without checking
the password. Every function takes `now` so tests need no clock.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from queries.authdb import connect
from queries.datadir import DataDir
from queries.errors import PulseError
from queries.settings import Settings

ROLES = ("policy", "partner", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_hasher = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_DUMMY_HASH = _hasher.hash("not a password: spends the same time for an unknown name")


class AccountError(PulseError):
    """An account cannot be added, found or changed; the message says what to do."""


@dataclass(frozen=True)
class Identity:
    """Who is signed in. Pages read it through `dashboard.auth.identity()`; it is built on the
    server from the account (or the SSO mapping), never from the URL, a widget or a cookie."""

    name: str
    role: Literal["policy", "partner", "admin"]
    partner_id: str | None = None  # set for role "partner" only

    @property
    def is_partner(self) -> bool:
        return self.role == "partner"


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    partner_id: str | None
    count_failed_sign_ins: int
    locked_until: dt.datetime | None  # UTC
    created_at: dt.datetime
    updated_at: dt.datetime

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def identity(self) -> Identity:
        return Identity(self.name, self.role, self.partner_id)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SignIn:
    """The outcome of `sign_in`: `ok` with the account, `wrong` (unknown name or wrong
    password; the two are not told apart), or `locked` with the time the lock ends."""

    outcome: Literal["ok", "wrong", "locked"]
    account: Account | None = None
    locked_until: dt.datetime | None = None
    just_locked: bool = False  # this failure locked the account


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def _ts(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds")


def _row_to_account(row: tuple) -> Account:
    name, role, partner_id, failed, locked, created, updated = row
    return Account(
        name,
        role,
        partner_id,
        failed,
        dt.datetime.fromisoformat(locked) if locked else None,
        dt.datetime.fromisoformat(created),
        dt.datetime.fromisoformat(updated),
    )


_COLUMNS = "name, role, partner_id, count_failed_sign_ins, locked_until, created_at, updated_at"


def generate_password() -> str:
    """A random password of about 128 bits, URL-safe characters."""
    return secrets.token_urlsafe(16)


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is shorter than {MIN_PASSWORD} characters; choose a longer one")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is longer than {MAX_PASSWORD} characters")


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise AccountError(
            f"account name {name!r} is not allowed: use 1-64 letters, digits and . _ @ + - (starting with a letter or digit)"
        )


def check_role(settings: Settings, role: str, partner_id: str | None) -> None:
    """A partner account names a partner slug of the config; other roles name none."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "partner":
        if not partner_id:
            raise AccountError(f"a partner account needs --partner SLUG, one of: {', '.join(settings.partner_ids)}")
        if partner_id not in settings.partner_ids:
            raise AccountError(
                f"partner {partner_id!r} is not in the config ({settings.source}); "
                f"use one of: {', '.join(settings.partner_ids)}"
            )
    elif partner_id:
        raise AccountError(f"--partner is only for role 'partner' (got role {role!r})")


def get(d: DataDir, name: str) -> Account | None:
    with connect(d) as con:
        row = con.execute(f"select {_COLUMNS} from accounts where name = ?", (name,)).fetchone()
    return _row_to_account(row) if row else None


def list_accounts(d: DataDir) -> list[Account]:
    with connect(d) as con:
        rows = con.execute(f"select {_COLUMNS} from accounts order by role, partner_id, name").fetchall()
    return [_row_to_account(r) for r in rows]


def add(
    d: DataDir,
    settings: Settings,
    name: str,
    role: str,
    partner_id: str | None,
    password: str,
    now: dt.datetime | None = None,
) -> Account:
    """Create an account; AccountError if the name is taken or the role/partner is invalid."""
    check_name(name)
    check_role(settings, role, partner_id)
    digest = hash_password(password)
    t = _ts(_now(now))
    try:
        with connect(d) as con:
            con.execute(
                "insert into accounts (name, role, partner_id, password_hash, created_at, updated_at)"
                " values (?, ?, ?, ?, ?, ?)",
                (name, role, partner_id, digest, t, t),
            )
    except sqlite3.IntegrityError:
        raise AccountError(
            f"account {name!r} already exists; use 'pulse users reset-password {name}' or choose another name"
        ) from None
    return get(d, name)  # type: ignore[return-value]


def _must_exist(con: sqlite3.Connection, name: str) -> None:
    if con.execute("select 1 from accounts where name = ?", (name,)).fetchone() is None:
        raise AccountError(f"no account named {name!r}; 'pulse users list' shows the accounts")


def remove(d: DataDir, name: str) -> None:
    with connect(d) as con:
        _must_exist(con, name)
        con.execute("delete from accounts where name = ?", (name,))


def reset_password(d: DataDir, name: str, password: str, now: dt.datetime | None = None) -> None:
    """Set a new password; also clears failures and any lock."""
    digest = hash_password(password)
    with connect(d) as con:
        _must_exist(con, name)
        con.execute(
            "update accounts set password_hash = ?, count_failed_sign_ins = 0, locked_until = null, updated_at = ?"
            " where name = ?",
            (digest, _ts(_now(now)), name),
        )


def unlock(d: DataDir, name: str, now: dt.datetime | None = None) -> None:
    with connect(d) as con:
        _must_exist(con, name)
        con.execute(
            "update accounts set count_failed_sign_ins = 0, locked_until = null, updated_at = ? where name = ?",
            (_ts(_now(now)), name),
        )


def sign_in(d: DataDir, settings: Settings, name: str, password: str, now: dt.datetime | None = None) -> SignIn:
    """Check a name and password. Counts failures per account and locks it after
    `auth.max_failed_sign_ins` in a row for `auth.lockout_minutes`; a success resets the count.
    An unknown name costs the same Argon2 work as a known one and gives the same answer."""
    t = _now(now)
    with connect(d) as con:
        row = con.execute(f"select {_COLUMNS}, password_hash from accounts where name = ?", (name,)).fetchone()
    if row is None:
        _verify(_DUMMY_HASH, password)
        return SignIn("wrong")
    account, digest = _row_to_account(row[:-1]), row[-1]
    if account.is_locked(t):
        return SignIn("locked", account, account.locked_until)
    if _verify(digest, password):
        with connect(d) as con:
            con.execute(
                "update accounts set count_failed_sign_ins = 0, locked_until = null where name = ?",
                (name,),
            )
            if _hasher.check_needs_rehash(digest):
                con.execute("update accounts set password_hash = ? where name = ?", (_hasher.hash(password), name))
        return SignIn("ok", get(d, name) or account)
    return _count_failure(d, settings, name, t)


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _count_failure(d: DataDir, settings: Settings, name: str, t: dt.datetime) -> SignIn:
    with connect(d) as con:
        con.execute("begin immediate")  # read-modify-write: two sessions failing at once both count
        try:
            row = con.execute(
                "select count_failed_sign_ins, locked_until from accounts where name = ?", (name,)
            ).fetchone()
            if row is None:  # removed meanwhile
                con.execute("commit")
                return SignIn("wrong")
            failed = row[0] + 1
            locked_until = None
            if failed >= settings.auth.max_failed_sign_ins:
                locked_until = t + dt.timedelta(minutes=settings.auth.lockout_minutes)
                failed = 0
            con.execute(
                "update accounts set count_failed_sign_ins = ?, locked_until = ? where name = ?",
                (failed, _ts(locked_until), name),
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    if locked_until is not None:
        return SignIn("wrong", get(d, name), locked_until, just_locked=True)
    return SignIn("wrong", get(d, name))


def sso_identity(settings: Settings, email: str | None) -> Identity | None:
    """The identity an SSO e-mail maps to in `auth.sso_users`, or None if it is not there
    (case-insensitive match; the account name is the e-mail as configured)."""
    if not email:
        return None
    wanted = email.strip().casefold()
    for u in settings.auth.sso_users:
        if u.email == wanted:
            return Identity(u.email, u.role, u.partner)  # type: ignore[arg-type]
    return None
