"""The dashboard and its files as an attacker would try them (issue 14, points 9-12): download
URLs without the session that made them, account names that can be enumerated or locked from
elsewhere, formulas in CSV cells, the open metrics endpoint and missing security headers.
Real parts: `pulse dashboard` in Debian's Chromium, `pulse export` as a subprocess, the
accounts database in a tmp data dir."""

from __future__ import annotations

import csv
import datetime as dt
import io
import urllib.error
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from core import csvfile
from core.datadir import DataDir
from core.settings import Settings
from queries import partner
from queries.warehouse import published
from tests.conftest import REPO
from tests.dashboard_fixtures import add_accounts, build

FORMULA = '=HYPERLINK("http://evil.example/x","Click for the figures")'


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = build(tmp_path_factory.mktemp("hostile") / "data")
    add_accounts(d.root)
    return d.root


# --- 11. CSV injection --------------------------------------------------------------------


def test_formula_cells_are_quoted_and_numbers_are_not() -> None:
    df = pl.DataFrame(
        {
            "text": ["=1+1", "+cmd", "-x", "@SUM(A1)", "\tx", "\rx", "-5", "+3.5", "-2e3", "<10", "ok", None],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        }
    )
    rows = list(csv.reader(io.StringIO(csvfile.to_text(df), newline="")))
    assert rows[0] == ["text", "count"]
    assert [r[0] for r in rows[1:]] == [
        "'=1+1", "'+cmd", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "-5", "+3.5", "-2e3", "<10", "ok", ""
    ]  # fmt: skip
    assert [r[1] for r in rows[1:]][:1] == ["-1"]  # a negative number stays a number
    assert csvfile.to_text(pl.DataFrame({"=x": ["a"]})).splitlines()[0] == "'=x"
    cat = pl.DataFrame({"c": pl.Series(["=A1", "b"], dtype=pl.Categorical)})
    assert csvfile.to_text(cat) == "c\n'=A1\nb\n"


def _config_with_tpo_named(tmp_path: Path, name: str) -> Path:
    config = tmp_path / "campaign.toml"
    text = (REPO / "campaign.toml").read_text(encoding="utf-8")
    assert 'name = "Transcultural Psychosocial Organization Cambodia"' in text
    config.write_text(
        text.replace('name = "Transcultural Psychosocial Organization Cambodia"', f"name = '{name}'"),
        encoding="utf-8",
    )
    return config


def test_pulse_export_quotes_a_formula_in_a_cell(data_root: Path, tmp_path: Path, pulse) -> None:
    config = _config_with_tpo_named(tmp_path, FORMULA)
    r = pulse("--data-dir", str(data_root), "--config", str(config), "export", "--partner", "tpo-cambodia",
              "--out", "-")  # fmt: skip
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert rows and {row["partner"] for row in rows} == {"'" + FORMULA}
    out = tmp_path / "tpo.csv"
    r = pulse("--data-dir", str(data_root), "--config", str(config), "export", "--partner", "tpo-cambodia",
              "--out", str(out))  # fmt: skip
    assert r.code == 0, r.err
    assert {row["partner"] for row in csv.DictReader(out.open(newline=""))} == {"'" + FORMULA}


def test_pulse_export_of_normal_data_is_byte_identical(data_root: Path, tmp_path: Path, pulse) -> None:
    s = Settings()
    with published(DataDir(data_root)) as con:
        expected = partner.report(con, s, "tpo-cambodia", s.launch, dt.date(2026, 11, 25)).write_csv()
    out = tmp_path / "tpo.csv"
    r = pulse("--data-dir", str(data_root), "export", "--partner", "tpo-cambodia", "--to", "2026-11-25",
              "--out", str(out))  # fmt: skip
    assert r.code == 0, r.err
    assert out.read_bytes() == expected.encode("utf-8")
    assert expected.count("\n") > 10


# --- the running dashboard -----------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_root: Path):
    from benchmarks.browser import DashboardDidNotStart, running_dashboard

    log = tmp_path_factory.mktemp("log") / "dashboard.log"
    try:
        with running_dashboard(data_root, log) as base:
            yield base
    except DashboardDidNotStart as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run .ci/setup --browser"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_context(browser, client: str | None = None):
    """A browser context: its own cookies, like another person's browser. `client` is the
    address a reverse proxy on this host would pass on in X-Forwarded-For."""
    headers = {"X-Forwarded-For": client} if client else {}
    return browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True,
                               extra_http_headers=headers)  # fmt: skip


def signed_in_page(context, url: str, name: str, password: str | None = None):
    from benchmarks.browser import sign_in_form
    from tests.dashboard_fixtures import ACCOUNTS
    from tests.test_dashboard_browser import open_page, wait_idle

    page = context.new_page()
    open_page(page, url)
    sign_in_form(page, name, password if password is not None else ACCOUNTS[name][2])
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page


def http_status(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A bare request, as curl without cookies would make it."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


# --- 12. metrics and security headers -------------------------------------------------------


def test_metrics_endpoint_is_off(server: str) -> None:
    for path in ("/_stcore/metrics", "/_stcore/metrics?families=session_events_total", "/_stcore/metrics/"):
        status, _, body = http_status(server + path)
        assert status == 404, (path, status, body[:200])
    assert http_status(server + "/_stcore/health")[0] == 200  # the health check stays


def test_the_apps_own_static_media_is_not_guarded(server: str) -> None:
    """Streamlit's bundled fonts live under /static/media/: guarding them like download files
    left every Material icon drawn as its name ("dashboard", "logout") over the sidebar's words."""
    import streamlit

    fonts = Path(streamlit.__file__).parent / "static" / "static" / "media"
    icons = next(fonts.glob("MaterialSymbols-Rounded*.woff2"))
    status, _, body = http_status(f"{server}/static/media/{icons.name}")
    assert status == 200 and len(body) > 1000, (status, body[:200])
    assert http_status(server + "/static//media/0123456789abcdef.csv")[0] == 404  # no way round the guard


def test_every_response_carries_the_security_headers(server: str) -> None:
    for path in ("/", "/_stcore/health", "/media/0123456789abcdef.csv", "/_stcore/metrics"):
        _, headers, _ = http_status(server + path)
        assert headers.get("x-content-type-options") == "nosniff", path
        assert headers.get("content-security-policy") == "frame-ancestors 'none'", path
        assert headers.get("x-frame-options") == "DENY", path
        assert headers.get("referrer-policy") == "no-referrer", path


# --- 9. downloads only for the session that made them ---------------------------------------


def test_a_download_url_works_only_for_its_signed_in_session(server: str, browser) -> None:
    owner = new_context(browser)
    page = signed_in_page(owner, server + "/", "policy-test")
    with page.expect_download() as d:
        page.get_by_role("button", name="Download CSV").first.click()
    url = d.value.url
    body = Path(d.value.path()).read_bytes()
    assert "/media/" in url and body.startswith(b"Day,")

    mine = owner.request.get(url)
    assert (mine.status, mine.body()) == (200, body)  # the session that made it
    assert http_status(url)[0] == 404  # curl: no cookie
    path = url.split("/media/", 1)[1]
    for variant in (f"//media/{path}", f"/media/{path}/", f"/media/{path}?x=1", f"/media/{path.split('.')[0]}"):
        assert http_status(server + variant)[0] == 404, variant
    assert http_status(url, {"Cookie": "pulse_browser=guessed"})[0] == 404

    other = new_context(browser)
    try:
        signed_in_page(other, server + "/portal", "tpo-test")
        assert other.request.get(url).status == 404  # another partner's browser, signed in
    finally:
        other.close()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for(timeout=30_000)
    assert owner.request.get(url).status == 404  # the same browser after sign-out
    owner.close()


def test_an_expired_session_loses_its_downloads() -> None:
    from dashboard import downloads

    now = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    downloads._sessions["s1"] = downloads._Session("browser-1", now + dt.timedelta(minutes=30), {"f1"})  # noqa: SLF001
    assert downloads.may_fetch("f1", "browser-1", now)
    assert not downloads.may_fetch("f1", "browser-2", now)  # another browser
    assert not downloads.may_fetch("f2", "browser-1", now)  # a file the session did not make
    assert not downloads.may_fetch("f1", None, now)
    assert not downloads.may_fetch("f1", "browser-1", now + dt.timedelta(minutes=30))  # idle deadline reached
    assert "s1" not in downloads._sessions  # noqa: SLF001
    downloads._sessions["s2"] = downloads._Session("browser-1", now + dt.timedelta(minutes=30), {"f1"})  # noqa: SLF001
    downloads.session_ended("s2")
    assert not downloads.may_fetch("f1", "browser-1", now)


def test_a_formula_typed_as_account_name_is_quoted_in_the_audit_export(server: str, browser, data_root: Path) -> None:
    from tests.test_dashboard_browser import open_page, wait_idle

    attacker = new_context(browser)
    page = attacker.new_page()
    open_page(page, server + "/")
    sign_in_form_failing(page, FORMULA, "whatever password")
    attacker.close()

    admin = new_context(browser)
    page = signed_in_page(admin, server + "/accounts", "admin-test")
    page.get_by_role("heading", name="Audit log").wait_for()
    table = page.locator('[data-testid="stDataFrame"]').last
    table.hover()
    page.wait_for_timeout(500)
    assert page.get_by_role("button", name="Download as CSV").count() == 0  # tables' own unquoted export is off
    with page.expect_download() as d:
        page.get_by_role("button", name="Download the audit log (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(d.value.path()).read_text(encoding="utf-8"), newline="")))
    failed = [r for r in rows if r["Action"] == "Sign-in failed"]
    assert failed and failed[0]["Account"] == "'" + FORMULA
    assert not any(v.startswith(csvfile.FORMULA_START) for r in rows for v in r.values() if v)
    wait_idle(page)
    admin.close()


def sign_in_form_failing(page, name: str, password: str) -> None:
    """Submit the sign-in form with credentials that do not work; wait for the message."""
    from tests.test_dashboard_browser import wait_idle

    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator('[data-testid="stAlert"]').first.wait_for(timeout=60_000)


def alert(page) -> str:
    return page.locator('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]').first.inner_text().strip()


# --- 10. no enumeration, no lockout from elsewhere -------------------------------------------

ATTACKER, ADMIN_HOME = "203.0.113.66", "198.51.100.7"


def test_an_attacker_elsewhere_cannot_lock_out_the_admin(server: str, browser, data_root: Path) -> None:
    from core import accounts, audit
    from tests.test_dashboard_browser import open_page

    attacker = new_context(browser, ATTACKER)
    page = attacker.new_page()
    open_page(page, server + "/")
    messages = []
    for _ in range(5):
        sign_in_form_failing(page, "admin-test", "a guessed password")
        messages.append(alert(page))
    sign_in_form_failing(page, "admin-test", "admin test password")  # the right one, from the attacker's address
    messages.append(alert(page))
    attacker.close()

    admin = new_context(browser, ADMIN_HOME)
    page = signed_in_page(admin, server + "/", "admin-test")  # the admin, from elsewhere: signs in
    assert page.get_by_text("Signed in as").count() == 1
    admin.close()

    assert messages[:4] == ["Wrong account name or password."] * 4
    assert messages[4].startswith("Wrong account name or password. After 5 failed attempts, this account name is "
                                  "locked from your address until ")  # fmt: skip
    assert messages[5].startswith("Too many failed sign-ins with this account name from your address. Try again after ")
    entries = audit.entries(DataDir(data_root), limit=3, account="admin-test")
    assert [e.action for e in entries] == ["sign_in", "sign_in_locked", "sign_in_failed"]
    assert entries[1].detail.startswith(f"refused from {ATTACKER} (this name) until ")
    assert entries[2].detail.startswith(f"wrong account name or password from {ATTACKER}; now locked (this name) until")
    accounts.unlock(DataDir(data_root), "admin-test")


def test_unknown_and_existing_names_get_the_same_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the real sign-in form (AppTest): six wrong tries with an existing name and six
    with a name that does not exist read alike, lock message included."""
    import re

    from streamlit.testing.v1 import AppTest

    from core import accounts
    from tests.test_dashboard_pages import APP, sign_in

    d = DataDir(tmp_path / "data").ensure()
    accounts.add(d, Settings(), "real-name", "policy", None, "real name password")
    monkeypatch.setenv("PULSE_DATA_DIR", str(d.root))
    monkeypatch.chdir(REPO)

    def answers(name: str) -> list[str]:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        out = []
        for _ in range(6):
            sign_in(at, name, "wrong wrong wrong")
            assert not at.exception, at.exception
            out += [re.sub(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d ICT", "<time>", e.value) for e in at.error]
        return out

    real, ghost = answers("real-name"), answers("no-such-name")
    assert real == ghost
    assert real[3:] == [
        "Wrong account name or password.",
        "Wrong account name or password. After 5 failed attempts, this account name is locked from your address "
        "until <time>.",
        "Too many failed sign-ins with this account name from your address. Try again after <time>, "
        "or ask an admin to unlock it.",
    ]


def test_lockout_counts_per_name_and_client_and_throttles_a_client(tmp_path: Path) -> None:
    from core import accounts
    from core.settings import settings_from_dict

    d = DataDir(tmp_path / "data").ensure()
    s = settings_from_dict({"auth": {"max_failed_sign_ins": 3, "lockout_minutes": 15}})
    accounts.add(d, s, "boss", "admin", None, "boss password 1")
    t0 = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    tries = [accounts.sign_in(d, s, "boss", "guess guess", t0, client=ATTACKER) for _ in range(3)]
    assert [(r.outcome, r.just_locked) for r in tries] == [("wrong", False), ("wrong", False), ("wrong", True)]
    assert tries[-1].locked_until == t0 + dt.timedelta(minutes=15)
    assert accounts.sign_in(d, s, "boss", "boss password 1", t0, client=ATTACKER).outcome == "locked"
    assert accounts.sign_in(d, s, "boss", "boss password 1", t0, client=ADMIN_HOME).outcome == "ok"
    assert accounts.sign_in(d, s, "boss", "boss password 1", t0).outcome == "ok"  # this host
    assert accounts.get(d, "boss").is_locked(t0)  # from the attacker's address: the Accounts page shows it
    # an unknown name locks exactly like a known one
    ghost = [accounts.sign_in(d, s, "ghost", "guess guess", t0, client=ATTACKER) for _ in range(4)]
    assert [(g.outcome, g.just_locked, g.account) for g in ghost] == [
        ("wrong", False, None), ("wrong", False, None), ("wrong", True, None), ("locked", False, None)
    ]  # fmt: skip
    # spraying names from one client: after 4 x 3 = 12 failures in the window, every name is refused there
    sprayed = [accounts.sign_in(d, s, f"name{i}", "guess guess", t0, client=ATTACKER).outcome for i in range(6)]
    assert sprayed == ["wrong"] * 5 + ["throttled"]
    assert accounts.sign_in(d, s, "boss", "boss password 1", t0, client=ATTACKER).outcome == "throttled"
    assert accounts.sign_in(d, s, "boss", "boss password 1", t0, client=ADMIN_HOME).outcome == "ok"
    later = t0 + dt.timedelta(minutes=15)
    assert accounts.sign_in(d, s, "boss", "boss password 1", later, client=ATTACKER).outcome == "ok"
