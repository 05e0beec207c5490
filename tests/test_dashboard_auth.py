"""Sign-in, roles and sessions through Streamlit's AppTest, on accounts made by `pulse users add`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import accounts, audit
from core.accounts import Identity
from core.datadir import DataDir
from core.settings import Settings
from tests.conftest import REPO
from tests.dashboard_fixtures import ACCOUNTS, add_accounts, build
from tests.test_dashboard_pages import APP, PAGES, sign_in

POLICY_TITLES = {
    "Is the campaign landing?",
    "Who does the campaign reach?",
    "Digital Wellness Hub",
    "Helpline referrals",
    "Is it safe?",
    "Data health",
    "Accounts",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build(tmp_path_factory.mktemp("auth") / "data").root
    add_accounts(root)
    return root


@pytest.fixture
def app(warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.chdir(REPO)

    def new() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        return at

    return new


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def registered(at: AppTest) -> dict[str, str]:
    """The page scripts this session's st.navigation registered: script file name -> page hash
    (the hidden pages that say "That page is for …" are functions in app.py, not scripts)."""
    pages = at._registered_pages.items()  # noqa: SLF001
    return {Path(str(i["script_path"])).name: h for h, i in pages if str(i["script_path"])}


def request_page_hash(at: AppTest, page_hash: str) -> AppTest:
    """What a crafted request does: ask for a page by the hash another role's session uses
    (AppTest.switch_page refuses pages this session did not register, so set it directly)."""
    at._page_hash = page_hash  # noqa: SLF001
    return at.run()


@pytest.fixture(scope="module")
def admin_page_hashes(warehouse: Path) -> dict[str, str]:
    """Every policy and admin page's hash, as an admin's session registers them."""
    import os

    old = os.environ.get("PULSE_DATA_DIR")
    os.environ["PULSE_DATA_DIR"] = str(warehouse)
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        sign_in(at, "admin-test")
        return registered(at)
    finally:
        if old is None:
            os.environ.pop("PULSE_DATA_DIR")
        else:
            os.environ["PULSE_DATA_DIR"] = old


def everything_shown(at: AppTest) -> str:
    """All text the run produced, to search for names that must not appear."""
    parts = [e.value for e in [*at.title, *at.header, *at.subheader, *at.caption, *at.markdown, *at.info]]
    parts += [str(e.value) for e in at.metric]
    parts += [e.label for e in [*at.selectbox, *at.multiselect, *at.button, *at.text_input]]
    parts += [str(o) for e in [*at.selectbox, *at.multiselect] for o in e.options]
    parts += [e.value.to_string() for e in at.dataframe]
    return "\n".join(parts)


def test_nothing_but_the_sign_in_form_before_sign_in(app) -> None:
    at = app()
    assert titles(at) == ["Wellbeing Pulse"]
    assert [t.label for t in at.text_input] == ["Account name", "Password"]
    shown = everything_shown(at)
    for p in Settings().partners:
        assert p.name not in shown and p.id not in shown
    assert not at.metric and not at.dataframe and not at.multiselect
    assert "snapshot" not in shown


def test_policy_sees_the_overview_and_no_admin_pages(app, admin_page_hashes: dict[str, str]) -> None:
    at = sign_in(app(), "policy-test")
    assert titles(at) == ["Is the campaign landing?"]
    assert any("Signed in as **policy-test** · policy" in c.value for c in at.caption)
    assert set(registered(at)) == {
        "overview.py", "audience.py", "hub.py", "referrals.py", "safety.py", "alerts.py", "glossary.py"
    }  # fmt: skip
    for page in ["data_health.py", "accounts.py"]:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{page}")
        request_page_hash(at, admin_page_hashes[page])
        assert titles(at) == ["Is the campaign landing?"], page  # not allowed: back to the default page
    at.switch_page("views/audience.py").run()
    assert titles(at) == ["Who does the campaign reach?"]


def test_admin_sees_accounts_and_the_audit_log(app) -> None:
    at = sign_in(app(), "admin-test")
    at.switch_page("views/accounts.py").run()
    assert titles(at) == ["Accounts"]
    listed = at.dataframe[0].value
    assert set(listed["Account"]) == set(ACCOUNTS)
    assert "password" not in " ".join(listed.columns).lower()
    log = at.dataframe[1].value
    assert ("admin-test", "Signed in", "password") in set(
        zip(log["Account"], log["Action"], log["Detail"], strict=True)
    )


@pytest.mark.parametrize(("name", "partner"), [("tpo-test", "tpo-cambodia"), ("arom-test", "arom-station")])
def test_partner_sees_only_its_portal(app, admin_page_hashes: dict[str, str], name: str, partner: str) -> None:
    s = Settings()
    own = next(p for p in s.partners if p.id == partner)
    at = sign_in(app(), name)
    assert titles(at) == [f"Your referrals · {own.name}"]
    assert set(registered(at)) == {"partner_portal.py"}
    assert set(admin_page_hashes) == {Path(p).name for p in PAGES}
    for page in PAGES:  # every policy and admin page: by page name, then by the hash a policy session uses
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
        request_page_hash(at, admin_page_hashes[Path(page).name])
        assert not at.exception
        assert titles(at) == [f"Your referrals · {own.name}"], page
        shown = everything_shown(at)
        assert not POLICY_TITLES & set(titles(at))
        for other in s.partners:
            if other.id != partner:
                assert other.name not in shown and other.id not in shown, (page, other.id)
        # the policy filters are for policy pages only; the portal's own list holds its own values
        assert [m.key for m in at.multiselect] == ["p_only"]
        assert not any(k in at.session_state for k in ("f_start", "f_province", "f_age", "f_language"))


def test_partner_identity_cannot_come_from_the_url(app) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["partner"] = "arom-station"
    at.query_params["role"] = "admin"
    at.run()
    sign_in(at, "tpo-test")
    assert titles(at) == ["Your referrals · Transcultural Psychosocial Organization Cambodia"]
    assert at.session_state["pulse_identity"] == Identity("tpo-test", "partner", "tpo-cambodia")


def test_wrong_password_says_so_and_is_logged_without_the_password(app, warehouse: Path) -> None:
    at = sign_in(app(), "policy-test", "not my password at all")
    assert [e.value for e in at.error] == ["Wrong account name or password."]
    assert titles(at) == ["Wellbeing Pulse"] and not at.metric
    assert at.text_input(key="sign_in_password").value == ""  # not kept in the form
    last = audit.entries(DataDir(warehouse), limit=1)[0]
    assert (last.account, last.action) == ("policy-test", "sign_in_failed")
    assert "not my password" not in "".join(f"{e.account} {e.detail}" for e in audit.entries(DataDir(warehouse)))
    accounts.unlock(DataDir(warehouse), "policy-test")


def test_unknown_account_gets_the_same_message(app) -> None:
    at = sign_in(app(), "nobody-here", "whatever password")
    assert [e.value for e in at.error] == ["Wrong account name or password."]


def test_locked_account_says_until_when(app, warehouse: Path) -> None:
    d = DataDir(warehouse)
    accounts.add(d, Settings(), "lock-me", "policy", None, "lock me password")
    at = app()
    for _ in range(4):
        sign_in(at, "lock-me", "wrong wrong wrong")
        assert [e.value for e in at.error] == ["Wrong account name or password."]
    sign_in(at, "lock-me", "wrong wrong wrong")
    until = accounts.get(d, "lock-me").locked_until
    local = until.astimezone(Settings().tz)
    when = f"{local.day} {local:%b %Y, %H:%M} ICT"  # campaign time with the zone's name
    assert [e.value for e in at.error] == [
        f"Wrong account name or password. After 5 failed attempts, this account name is locked from your address "
        f"until {when}."
    ]
    sign_in(at, "lock-me", "lock me password")  # the right password, while locked
    assert [e.value for e in at.error] == [
        f"Too many failed sign-ins with this account name from your address. Try again after {when}, "
        "or ask an admin to unlock it."
    ]
    assert titles(at) == ["Wellbeing Pulse"]
    assert audit.entries(d, limit=1, account="lock-me")[0].action == "sign_in_locked"


def test_idle_session_expires(app) -> None:
    at = sign_in(app(), "policy-test")
    assert titles(at) == ["Is the campaign landing?"]
    at.session_state["pulse_last_seen"] = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    at.run()
    assert titles(at) == ["Wellbeing Pulse"]
    assert [i.value for i in at.info] == ["Your session expired after 30 minutes without activity. Sign in again."]
    assert "pulse_identity" not in at.session_state


def test_activity_keeps_the_session(app) -> None:
    at = sign_in(app(), "policy-test")
    at.session_state["pulse_last_seen"] = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=29)
    at.run()
    assert titles(at) == ["Is the campaign landing?"]


def test_removed_account_is_signed_out_on_the_next_interaction(app, warehouse: Path) -> None:
    d = DataDir(warehouse)
    accounts.add(d, Settings(), "leaver", "policy", None, "leaver password")
    at = sign_in(app(), "leaver", "leaver password")
    assert titles(at) == ["Is the campaign landing?"]
    accounts.remove(d, "leaver")
    at.run()
    assert titles(at) == ["Wellbeing Pulse"]
    assert [w.value for w in at.warning] == ["Your account was removed, so you were signed out."]
    assert not at.metric


def test_changed_role_is_signed_out(app, warehouse: Path) -> None:
    d = DataDir(warehouse)
    accounts.add(d, Settings(), "mover", "partner", "tpo-cambodia", "mover password")
    at = sign_in(app(), "mover", "mover password")
    accounts.remove(d, "mover")
    accounts.add(d, Settings(), "mover", "partner", "arom-station", "mover password")
    at.run()
    assert [w.value for w in at.warning] == [
        "Your account's role or partner changed, so you were signed out. Sign in again."
    ]
    assert titles(at) == ["Wellbeing Pulse"]


def test_sign_out(app, warehouse: Path) -> None:
    at = sign_in(app(), "policy-test")
    at.button(key="sign_out").click().run()
    assert titles(at) == ["Wellbeing Pulse"]
    assert [s.value for s in at.success] == ["You are signed out."]
    assert audit.entries(DataDir(warehouse), limit=1)[0].action == "sign_out"


# --- single sign-on: AppTest seeds st.user and st.secrets; the identity provider itself cannot run here


@pytest.fixture
def sso_app(warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "campaign.toml"
    config.write_text(
        (REPO / "campaign.toml")
        .read_text(encoding="utf-8")
        .replace(
            "[auth]\n",
            '[auth]\nsso_users = [{ email = "data@tpo.org.kh", role = "partner", partner = "tpo-cambodia" },'
            ' { email = "analyst@ministry.gov.kh", role = "policy" }]\n',
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("PULSE_DATA_DIR", str(warehouse))
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    monkeypatch.chdir(REPO)

    def new(email: str | None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
        at.user = {"is_logged_in": email is not None, **({"email": email} if email else {})}
        return at.run()

    return new, config


def test_sso_offers_its_button_beside_the_form(sso_app) -> None:
    new, _ = sso_app
    at = new(None)
    assert "Sign in with single sign-on" in [b.label for b in at.button]
    assert [t.label for t in at.text_input] == ["Account name", "Password"]


def test_sso_mapped_email_signs_in_with_its_role(sso_app, warehouse: Path) -> None:
    new, _ = sso_app
    at = new("Data@TPO.org.kh")
    assert titles(at) == ["Your referrals · Transcultural Psychosocial Organization Cambodia"]
    assert at.session_state["pulse_identity"] == Identity("data@tpo.org.kh", "partner", "tpo-cambodia")
    last = audit.entries(DataDir(warehouse), limit=1)[0]
    assert (last.account, last.action, last.detail) == ("data@tpo.org.kh", "sign_in", "sso")
    assert titles(new("analyst@ministry.gov.kh")) == ["Is the campaign landing?"]


def test_sso_unmapped_email_is_refused(sso_app, warehouse: Path) -> None:
    new, _ = sso_app
    at = new("someone@elsewhere.org")
    assert titles(at) == ["Wellbeing Pulse"]
    assert [e.value for e in at.error] == [
        "someone@elsewhere.org may not use Wellbeing Pulse. Ask an admin to add your e-mail to auth.sso_users "
        "in campaign.toml, or sign out and use another account."
    ]
    assert not at.metric
    assert audit.entries(DataDir(warehouse), limit=1)[0].action == "sign_in_refused"


def test_sso_email_dropped_from_the_mapping_ends_the_session(sso_app) -> None:
    new, config = sso_app
    at = new("analyst@ministry.gov.kh")
    assert titles(at) == ["Is the campaign landing?"]
    config.write_text(config.read_text().replace('{ email = "analyst@ministry.gov.kh", role = "policy" }', ""))
    at.run()
    assert titles(at) == ["Wellbeing Pulse"]
    assert "Your account was removed, so you were signed out." in [w.value for w in at.warning]
