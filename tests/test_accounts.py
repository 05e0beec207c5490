"""Accounts: Argon2id hashes, sign-in outcomes, lockout with an injected clock, SSO mapping,
and `pulse users` through the real console script."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from core import accounts, audit
from core.accounts import AccountError, Identity
from core.authdb import connect, db_path
from core.datadir import DataDir
from core.errors import ConfigError
from core.settings import Settings, settings_from_dict

T0 = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
PW = "correct horse battery"


@pytest.fixture
def d(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def test_password_is_stored_as_argon2id_only(d: DataDir) -> None:
    accounts.add(d, Settings(), "ana", "policy", None, PW, now=T0)
    with connect(d) as con:
        (digest,) = con.execute("select password_hash from accounts").fetchone()
    assert digest.startswith("$argon2id$v=19$")
    assert PW not in db_path(d).read_bytes().decode("latin-1")
    assert oct(db_path(d).stat().st_mode & 0o777) == "0o600"


def test_sign_in_right_and_wrong(d: DataDir) -> None:
    s = Settings()
    accounts.add(d, s, "ana", "policy", None, PW)
    ok = accounts.sign_in(d, s, "ana", PW)
    assert (ok.outcome, ok.account.identity) == ("ok", Identity("ana", "policy", None))
    assert accounts.sign_in(d, s, "ana", PW + "x").outcome == "wrong"
    assert accounts.sign_in(d, s, "nobody", PW).outcome == "wrong"  # same answer as a wrong password
    assert accounts.get(d, "ana").count_failed_sign_ins == 1


def test_lockout_after_n_failures_and_unlock_after_the_period(d: DataDir) -> None:
    s = settings_from_dict({"auth": {"max_failed_sign_ins": 3, "lockout_minutes": 15}})
    accounts.add(d, s, "ana", "policy", None, PW)
    results = [accounts.sign_in(d, s, "ana", "wrong password", now=T0 + dt.timedelta(seconds=i)) for i in range(3)]
    assert [r.just_locked for r in results] == [False, False, True]
    until = T0 + dt.timedelta(seconds=2, minutes=15)
    assert results[-1].locked_until == until
    # locked: even the right password is refused, and says until when
    during = accounts.sign_in(d, s, "ana", PW, now=until - dt.timedelta(seconds=1))
    assert (during.outcome, during.locked_until) == ("locked", until)
    after = accounts.sign_in(d, s, "ana", PW, now=until)
    assert after.outcome == "ok"
    assert accounts.get(d, "ana").locked_until is None


def test_success_resets_the_failure_count(d: DataDir) -> None:
    s = settings_from_dict({"auth": {"max_failed_sign_ins": 2}})
    accounts.add(d, s, "ana", "policy", None, PW)
    accounts.sign_in(d, s, "ana", "nope-nope-nope", now=T0)
    assert accounts.sign_in(d, s, "ana", PW, now=T0).outcome == "ok"
    assert accounts.sign_in(d, s, "ana", "nope-nope-nope", now=T0).outcome == "wrong"
    assert not accounts.get(d, "ana").is_locked(T0)


def test_reset_password_and_unlock_clear_the_lock(d: DataDir) -> None:
    s = settings_from_dict({"auth": {"max_failed_sign_ins": 1}})
    accounts.add(d, s, "ana", "policy", None, PW)
    accounts.sign_in(d, s, "ana", "nope-nope-nope", now=T0)
    assert accounts.get(d, "ana").is_locked(T0)
    accounts.unlock(d, "ana")
    assert not accounts.get(d, "ana").is_locked(T0)
    accounts.sign_in(d, s, "ana", "nope-nope-nope", now=T0)
    accounts.reset_password(d, "ana", "a brand new password", now=T0)
    assert accounts.sign_in(d, s, "ana", "a brand new password", now=T0).outcome == "ok"
    assert accounts.sign_in(d, s, "ana", PW, now=T0).outcome == "wrong"


@pytest.mark.parametrize(
    ("name", "role", "partner", "message"),
    [
        ("bo", "partner", "nope", "partner 'nope' is not in the config"),
        ("bo", "partner", None, "a partner account needs --partner SLUG"),
        ("bo", "policy", "tpo-cambodia", "--partner is only for role 'partner'"),
        ("bo", "boss", None, "unknown role 'boss'"),
        ("bo b", "policy", None, "account name 'bo b' is not allowed"),
    ],
)
def test_bad_accounts_are_refused(d: DataDir, name: str, role: str, partner: str | None, message: str) -> None:
    with pytest.raises(AccountError, match=message.replace("'", ".")):
        accounts.add(d, Settings(), name, role, partner, PW)
    assert accounts.list_accounts(d) == []


def test_short_password_and_duplicate_name_are_refused(d: DataDir) -> None:
    with pytest.raises(AccountError, match="shorter than 10 characters"):
        accounts.add(d, Settings(), "ana", "policy", None, "short")
    accounts.add(d, Settings(), "ana", "policy", None, PW)
    with pytest.raises(AccountError, match="already exists"):
        accounts.add(d, Settings(), "ana", "admin", None, PW)


SSO = {
    "auth": {
        "sso_users": [
            {"email": "Analyst@Ministry.gov.kh", "role": "policy"},
            {"email": "data@tpo.org.kh", "role": "partner", "partner": "tpo-cambodia"},
            {"email": "ops@pulse.example", "role": "admin"},
        ]
    }
}


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("analyst@ministry.gov.kh", Identity("analyst@ministry.gov.kh", "policy", None)),
        (" ANALYST@ministry.GOV.kh ", Identity("analyst@ministry.gov.kh", "policy", None)),
        ("data@tpo.org.kh", Identity("data@tpo.org.kh", "partner", "tpo-cambodia")),
        ("ops@pulse.example", Identity("ops@pulse.example", "admin", None)),
        ("data@arom.org.kh", None),
        ("", None),
        (None, None),
    ],
)
def test_sso_mapping(email: str | None, expected: Identity | None) -> None:
    assert accounts.sso_identity(settings_from_dict(SSO), email) == expected


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([{"email": "a@b.kh", "role": "partner", "partner": "nope"}], "auth.sso_users[0].partner: 'nope' is not"),
        ([{"email": "a@b.kh", "role": "partner"}], "role partner needs partner = SLUG"),
        ([{"email": "a@b.kh", "role": "policy"}, {"email": "A@b.kh", "role": "admin"}], "listed twice"),
        ([{"email": "not-an-email", "role": "policy"}], "auth.sso_users[0].email: not an e-mail address"),
    ],
)
def test_bad_sso_mapping_is_refused(users: list, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        settings_from_dict({"auth": {"sso_users": users}})


# --- the CLI -----------------------------------------------------------------------------


def test_cli_add_list_reset_remove(pulse, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    r = pulse("--data-dir", data, "users", "add", "ana", "--role", "policy")
    assert r.code == 0, r.err
    password = r.out.strip()
    assert len(password) >= 20 and f"Password (shown once, store it now): {password}" in r.err
    d = DataDir(Path(data))
    assert accounts.sign_in(d, Settings(), "ana", password).outcome == "ok"

    r = pulse("--data-dir", data, "users", "add", "tpo", "--role", "partner", "--partner", "tpo-cambodia",
              "--password-stdin", stdin="tpo's long password\n")  # fmt: skip
    assert (r.code, r.out.strip()) == (0, "Added partner account 'tpo' for tpo-cambodia.")
    assert accounts.sign_in(d, Settings(), "tpo", "tpo's long password").outcome == "ok"

    listed = json.loads(pulse("--data-dir", data, "users", "list", "--json").out)
    assert [(a["name"], a["role"], a["partner"]) for a in listed] == [
        ("tpo", "partner", "tpo-cambodia"),
        ("ana", "policy", None),
    ]
    table = pulse("--data-dir", data, "users", "list").out
    assert "argon2" not in table and password not in table and "tpo-cambodia" in table

    r = pulse("--data-dir", data, "users", "reset-password", "ana", "--password-stdin", stdin="another password\n")
    assert (r.code, r.out.strip()) == (0, "New password set for 'ana'; it is unlocked.")
    assert accounts.sign_in(d, Settings(), "ana", "another password").outcome == "ok"

    assert pulse("--data-dir", data, "users", "remove", "tpo").out.strip() == "Removed account 'tpo'."
    assert [a.name for a in accounts.list_accounts(d)] == ["ana"]
    actions = [(e.account, e.action) for e in audit.entries(d)][::-1]
    assert actions[:2] == [("ana", "account_added"), ("tpo", "account_added")]
    assert ("ana", "password_reset") in actions and ("tpo", "account_removed") in actions


@pytest.mark.parametrize(
    ("args", "stdin", "line"),
    [
        (["add", "bo", "--role", "partner", "--partner", "nope"], "",
         "Error: partner 'nope' is not in the config (built-in defaults); use one of: child-helpline-cambodia, "
         "arom-station, cambodia-4-0-center, tpo-cambodia"),
        (["add", "bo", "--role", "partner"], "",
         "Error: a partner account needs --partner SLUG, one of: child-helpline-cambodia, arom-station, "
         "cambodia-4-0-center, tpo-cambodia"),
        (["add", "bo", "--role", "boss"], "",
         "Error: Invalid value for '--role': 'boss' is not one of 'policy', 'partner', 'admin' "
         "(see 'pulse users add --help')"),
        (["add", "bo", "--role", "policy", "--password-stdin"], "short\n",
         "Error: the password is shorter than 10 characters; choose a longer one"),
        (["add", "bo", "--role", "policy", "--password-stdin"], "",
         "Error: --password-stdin: no password on standard input; pipe one line, e.g. printf '%s\\n' \"$PW\" |"),
        (["remove", "ghost"], "", "Error: no account named 'ghost'; 'pulse users list' shows the accounts"),
        (["reset-password", "ghost"], "", "Error: no account named 'ghost'; 'pulse users list' shows the accounts"),
    ],
)  # fmt: skip
def test_cli_errors_are_one_line(pulse, tmp_path: Path, args: list[str], stdin: str, line: str) -> None:
    r = pulse("--data-dir", str(tmp_path / "data"), "users", *args, stdin=stdin)
    assert r.code != 0
    assert r.err.strip() == line
    assert r.out == ""


def test_cli_help_ends_with_examples(pulse) -> None:
    for command in ["add", "list", "remove", "reset-password", "demo"]:
        r = pulse("users", command, "--help")
        assert r.code == 0
        assert r.out.rstrip().splitlines()[-1].strip().startswith(f"Example: pulse users {command}")


def test_list_shows_a_lock(pulse, tmp_path: Path) -> None:
    data = tmp_path / "data"
    d = DataDir(data)
    s = settings_from_dict({"auth": {"max_failed_sign_ins": 1}})
    accounts.add(d, s, "ana", "policy", None, PW)
    accounts.sign_in(d, s, "ana", "nope-nope-nope")
    listed = json.loads(pulse("--data-dir", str(data), "users", "list", "--json").out)
    assert listed[0]["locked_until"] is not None
    assert os.stat(db_path(d)).st_mode & 0o077 == 0


def test_demo_accounts_once_with_passwords_in_a_private_file(pulse, tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = pulse("--data-dir", str(data), "users", "demo")
    path = data / "secrets" / "demo-accounts.txt"
    assert r.code == 0 and r.out.strip().endswith(f"their passwords are in {path}.")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
    assert [(n, role, p) for n, role, p, _ in rows] == [
        ("demo-policy", "policy", "-"),
        ("demo-admin", "admin", "-"),
        *((f"demo-{p}", "partner", p) for p in Settings().partner_ids),
    ]
    d = DataDir(data)
    for name, _, _, password in rows:
        assert accounts.sign_in(d, Settings(), name, password).outcome == "ok", name
    again = pulse("--data-dir", str(data), "users", "demo")  # idempotent: same accounts, same passwords
    assert again.code == 0 and [line.split("\t") for line in path.read_text().splitlines()[1:]] == rows
    assert len(accounts.list_accounts(d)) == len(rows)
