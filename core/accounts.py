"""Dashboard accounts: local accounts with Argon2id password hashes, and the e-mail → role
mapping used with single sign-on. No Streamlit here: the CLI (`pulse users`) and the
dashboard (`dashboard/auth.py`) both call these functions.

Roles: `policy` (every policy page), `partner` (bound to one partner slug of the config:
only the partner pages, only its own data), `admin` (policy pages, data health, accounts).

Sign-in is rate-limited per account name *and* client (the address the dashboard sees; see
README "Sign-in"), so a stranger cannot lock anyone out from elsewhere:

- after `auth.max_failed_sign_ins` failures in a row with one name from one client, that
  (name, client) pair is locked for `auth.lockout_minutes`: the same name from another
  client still signs in;
- a client with `CLIENT_FACTOR` × `auth.max_failed_sign_ins` failures (whatever the names)
  within `auth.lockout_minutes` is refused for `auth.lockout_minutes`, for every name;
- both count typed names, not accounts: an unknown name is counted, locked and answered
  exactly like an existing one, so the answers never tell whether an account exists. A
  locked pair or client is refused without checking the password.

Every function takes `now` so tests need no clock.
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

from core.authdb import connect
from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings

ROLES = ("policy", "partner", "admin")
LANGUAGES = ("km", "en")  # an account's default language of the dashboard (None: the browser's)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

CLIENT_FACTOR = 4  # failures per client, in multiples of auth.max_failed_sign_ins, before it is refused
MAX_TYPED_NAME = 128  # a typed name is counted under its first 128 characters
LOCAL_CLIENT = "local"  # the client of a connection from this host (or when the address is unknown)

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
    language: str | None = None  # the dashboard's language after sign-in, unless the URL names one

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def identity(self) -> Identity:
        return Identity(self.name, self.role, self.partner_id)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SignIn:
    """The outcome of `sign_in`: `ok` with the account; `wrong` (unknown name or wrong
    password: the two are not told apart, and `account` is None for both); `locked` (this
    name from this client, until `locked_until`); `throttled` (this client, whatever the
    name, until `locked_until`). `just_locked`: this failure locked the pair (outcome
    `wrong`, with `locked_until`) or the client (outcome `throttled`)."""

    outcome: Literal["ok", "wrong", "locked", "throttled"]
    account: Account | None = None
    locked_until: dt.datetime | None = None
    just_locked: bool = False


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def _ts(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds")


def _row_to_account(row: tuple) -> Account:
    name, role, partner_id, failed, locked, created, updated, language = row
    return Account(
        name,
        role,
        partner_id,
        failed,
        dt.datetime.fromisoformat(locked) if locked else None,
        dt.datetime.fromisoformat(created),
        dt.datetime.fromisoformat(updated),
        language,
    )


# failures and lock of an account: summed over the clients it was tried from, the latest lock
_COLUMNS = (
    "name, role, partner_id,"
    " coalesce((select sum(f.count_failed) from sign_in_failures f where f.name = accounts.name), 0),"
    " (select max(f.locked_until) from sign_in_failures f where f.name = accounts.name),"
    " created_at, updated_at, language"
)


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


def check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise AccountError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")


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
    language: str | None = None,
) -> Account:
    """Create an account; AccountError if the name is taken or the role/partner is invalid."""
    check_name(name)
    check_role(settings, role, partner_id)
    check_language(language)
    digest = hash_password(password)
    t = _ts(_now(now))
    try:
        with connect(d) as con:
            con.execute(
                "insert into accounts (name, role, partner_id, password_hash, created_at, updated_at, language)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                (name, role, partner_id, digest, t, t, language),
            )
    except sqlite3.IntegrityError:
        raise AccountError(
            f"account {name!r} already exists; use 'pulse users reset-password {name}' or choose another name"
        ) from None
    return get(d, name)  # type: ignore[return-value]


def _must_exist(con: sqlite3.Connection, name: str) -> None:
    if con.execute("select 1 from accounts where name = ?", (name,)).fetchone() is None:
        raise AccountError(f"no account named {name!r}; 'pulse users list' shows the accounts")


def set_language(d: DataDir, name: str, language: str | None, now: dt.datetime | None = None) -> None:
    """Set (or with None, clear) an account's default language."""
    check_language(language)
    with connect(d) as con:
        _must_exist(con, name)
        con.execute("update accounts set language = ?, updated_at = ? where name = ?", (language, _ts(_now(now)), name))


def remove(d: DataDir, name: str) -> None:
    with connect(d) as con:
        _must_exist(con, name)
        con.execute("delete from accounts where name = ?", (name,))
        con.execute("delete from sign_in_failures where name = ?", (name,))


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
        con.execute("delete from sign_in_failures where name = ?", (name,))


def unlock(d: DataDir, name: str, now: dt.datetime | None = None) -> None:
    with connect(d) as con:
        _must_exist(con, name)
        con.execute(
            "update accounts set count_failed_sign_ins = 0, locked_until = null, updated_at = ? where name = ?",
            (_ts(_now(now)), name),
        )
        con.execute("delete from sign_in_failures where name = ?", (name,))  # from every client


def sign_in(
    d: DataDir,
    settings: Settings,
    name: str,
    password: str,
    now: dt.datetime | None = None,
    client: str | None = None,
) -> SignIn:
    """Check a name and password typed from `client` (an address; None: this host). Counts
    failures per (typed name, client) and per client (module docstring); a success resets
    the pair's count. An unknown name costs the same Argon2 work as a known one and gives
    the same answer, locks included."""
    t = _now(now)
    who = client or LOCAL_CLIENT
    typed = name[:MAX_TYPED_NAME]
    with connect(d) as con:
        blocked = con.execute("select blocked_until from client_failures where client = ?", (who,)).fetchone()
        pair = con.execute(
            "select locked_until from sign_in_failures where name = ? and client = ?", (typed, who)
        ).fetchone()
        row = con.execute(f"select {_COLUMNS}, password_hash from accounts where name = ?", (name,)).fetchone()
    if blocked and blocked[0] and t < (until := dt.datetime.fromisoformat(blocked[0])):
        return SignIn("throttled", None, until)
    if pair and pair[0] and t < (until := dt.datetime.fromisoformat(pair[0])):
        return SignIn("locked", None, until)
    if row is None:
        _verify(_DUMMY_HASH, password)
        return _count_failure(d, settings, typed, who, t)
    account, digest = _row_to_account(row[:-1]), row[-1]
    if _verify(digest, password):
        with connect(d) as con:
            con.execute("delete from sign_in_failures where name = ? and client = ?", (typed, who))
            if _hasher.check_needs_rehash(digest):
                con.execute("update accounts set password_hash = ? where name = ?", (_hasher.hash(password), name))
        return SignIn("ok", get(d, name) or account)
    return _count_failure(d, settings, typed, who, t)


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _count_failure(d: DataDir, settings: Settings, typed: str, client: str, t: dt.datetime) -> SignIn:
    """One more failure for (typed, client) and for client, in one transaction (two sessions
    failing at once both count). Returns `wrong`, or the lock this failure set."""
    lockout = dt.timedelta(minutes=settings.auth.lockout_minutes)
    per_pair = settings.auth.max_failed_sign_ins
    per_client = CLIENT_FACTOR * per_pair
    with connect(d) as con:
        con.execute("begin immediate")
        try:
            row = con.execute(
                "select count_failed from sign_in_failures where name = ? and client = ?", (typed, client)
            ).fetchone()
            failed = (row[0] if row else 0) + 1
            pair_until = t + lockout if failed >= per_pair else None
            con.execute(
                "insert into sign_in_failures (name, client, count_failed, locked_until, last_failed_at)"
                " values (?, ?, ?, ?, ?) on conflict (name, client) do update set"
                " count_failed = excluded.count_failed, locked_until = excluded.locked_until,"
                " last_failed_at = excluded.last_failed_at",
                (typed, client, 0 if pair_until else failed, _ts(pair_until), _ts(t)),
            )
            row = con.execute(
                "select window_start, count_failed from client_failures where client = ?", (client,)
            ).fetchone()
            if row is None or t - dt.datetime.fromisoformat(row[0]) > lockout:
                window_start, count = t, 1  # a new window
            else:
                window_start, count = dt.datetime.fromisoformat(row[0]), row[1] + 1
            client_until = t + lockout if count >= per_client else None
            con.execute(
                "insert into client_failures (client, window_start, count_failed, blocked_until) values (?, ?, ?, ?)"
                " on conflict (client) do update set window_start = excluded.window_start,"
                " count_failed = excluded.count_failed, blocked_until = excluded.blocked_until",
                (client, _ts(t if client_until else window_start), 0 if client_until else count, _ts(client_until)),
            )
            # forget old failures of names that are not locked (typed names pile up otherwise)
            con.execute(
                "delete from sign_in_failures where last_failed_at < ? and (locked_until is null or locked_until < ?)",
                (_ts(t - dt.timedelta(days=1)), _ts(t)),
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    if client_until is not None:
        return SignIn("throttled", None, client_until, just_locked=True)
    if pair_until is not None:
        return SignIn("wrong", None, pair_until, just_locked=True)
    return SignIn("wrong")


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
