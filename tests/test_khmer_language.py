"""Issue 15, choosing the language: the browser's Accept-Language before sign-in, an account's
default (`pulse users add … --lang km`, stored with the account, also in an accounts file made
before the column existed), and the language of one thread never leaking into another's."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from core import accounts, labels
from core.authdb import db_path
from core.datadir import DataDir
from core.settings import Settings
from dashboard.state import accepted_language


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("km-KH,km;q=0.9,en-US;q=0.8,en;q=0.7", "km"),
        ("en-GB,en;q=0.9,km;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,km;q=0.5,en;q=0.4", "km"),
        ("en;q=0.3, km;q=0.6", "km"),
        ("km;q=0, en", "en"),
        ("fr-FR,de", None),
        ("", None),
        (None, None),
        ("km;q=abc", None),
    ],
)
def test_the_browsers_language_is_the_first_we_have_by_weight(header: str | None, lang: str | None) -> None:
    assert accepted_language(header) == lang


def test_an_accounts_language_is_stored_and_changed(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    a = accounts.add(d, Settings(), "ana", "policy", None, "a long password", language="km")
    assert a.language == "km"
    assert accounts.get(d, "ana").language == "km"
    accounts.set_language(d, "ana", "en")
    assert accounts.get(d, "ana").language == "en"
    accounts.set_language(d, "ana", None)
    assert accounts.get(d, "ana").language is None
    with pytest.raises(accounts.AccountError, match="unknown language 'fr'; use one of km, en"):
        accounts.set_language(d, "ana", "fr")


def test_an_accounts_file_from_before_the_language_column_gets_it(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "data").ensure()
    path = db_path(d)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as con:  # the schema of the first release
        con.execute(
            "create table accounts (name text primary key, role text not null, partner_id text,"
            " password_hash text not null, count_failed_sign_ins integer not null default 0,"
            " locked_until text, created_at text not null, updated_at text not null)"
        )
        con.execute("insert into accounts values ('old', 'policy', null, 'x', 0, null, '2026-10-01T00:00:00+00:00',"
                    " '2026-10-01T00:00:00+00:00')")  # fmt: skip
    assert accounts.get(d, "old").language is None
    accounts.set_language(d, "old", "km")
    assert accounts.get(d, "old").language == "km"


def test_pulse_users_add_lang_km(pulse, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    r = pulse("--data-dir", data, "users", "add", "tpo-km", "--role", "partner", "--partner", "tpo-cambodia",
              "--lang", "km", "--password-stdin", stdin="a long password\n")  # fmt: skip
    assert r.code == 0, r.err
    listed = json.loads(pulse("--data-dir", data, "users", "list", "--json").out)
    assert [(a["name"], a["language"]) for a in listed] == [("tpo-km", "km")]
    r = pulse("--data-dir", data, "users", "add", "x", "--role", "policy", "--lang", "fr", "--password-stdin",
              stdin="a long password\n")  # fmt: skip
    assert r.code == 2 and "'fr' is not one of 'km', 'en'" in r.err


def test_two_threads_in_two_languages_keep_their_own_words() -> None:
    """Streamlit runs each session's script in its own thread: the language is a context
    variable of that thread, so one session choosing Khmer never changes another's words."""
    seen: dict[str, list[str]] = {"km": [], "en": []}
    barrier = threading.Barrier(2)

    def run(lang: str) -> None:
        labels.use(lang)
        labels.use_digits(lang == "km")
        for _ in range(50):
            barrier.wait()
            seen[lang].append(labels._("Overview") + " " + labels.digits("12"))

    threads = [threading.Thread(target=run, args=(lang,)) for lang in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(seen["en"]) == {"Overview 12"}
    assert set(seen["km"]) == {labels.translations("km").gettext("Overview") + " ១២"}
    assert labels.language() == "en" and labels.digits("12") == "12"  # this thread: untouched


def test_polars_functions_read_the_callers_language() -> None:
    """Polars runs `map_elements` on its own threads; `labels.bound` carries the language there."""
    import polars as pl

    token = labels.use("km")
    try:
        days = pl.DataFrame({"w": list(range(1, 8)) * 2000})
        out = days.select(
            pl.col("w").map_elements(labels.bound(lambda d: labels.label("weekday", d)), return_dtype=pl.String)
        )
        assert set(out["w"]) == {labels.label("weekday", d) for d in range(1, 8)}
        assert "Monday" not in set(out["w"])
    finally:
        labels.reset(token)


def test_an_admin_sets_an_accounts_language_on_the_accounts_page(tmp_path: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO
    from tests.dashboard_fixtures import add_accounts, build
    from tests.test_dashboard_pages import APP, sign_in

    root = build(tmp_path / "data").root
    add_accounts(root)
    monkeypatch.setenv("PULSE_DATA_DIR", str(root))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at = sign_in(at, "admin-test")
    at.switch_page("views/accounts.py").run()
    assert list(at.dataframe[0].value["Language"].unique()) == ["The browser's"]
    who = next(s for s in at.selectbox if s.label == "Default language of an account")
    lang = next(s for s in at.selectbox if s.label == "Language after sign-in")
    who.set_value("policy-test")
    lang.set_value("km")
    next(b for b in at.button if b.label == "Set the language").click().run()
    assert accounts.get(DataDir(root), "policy-test").language == "km"
    table = at.dataframe[0].value
    assert dict(zip(table["Account"], table["Language"], strict=True))["policy-test"] == "Khmer"
