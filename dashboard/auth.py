"""Sign-in for the dashboard: local accounts (core/accounts.py) by default, Streamlit's own
OIDC single sign-on when `.streamlit/secrets.toml` has an [auth] section.

The identity lives only in server-side `st.session_state` (key `pulse_identity`), set here
after a password check or from the SSO mapping; nothing the browser sends (URL, query
parameters, widget values, cookies) can set or change it. On every run the account is read
again, so an account removed, or whose role or partner changed, is signed out on its next
interaction; a session idle for `auth.session_idle_minutes` expires.

Failed sign-ins are counted per typed name and client address (core/accounts.py): the
form gives the same words for an unknown name and an existing one. A signed-in session
registers itself with dashboard/downloads.py, so its download URLs serve only it, and
only until it signs out, expires or its account changes.

Pages call `identity()`; `app.py` calls `require_identity()` before anything else.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core import accounts, audit, labels
from core.accounts import Identity
from core.labels import _
from dashboard import downloads, state

__all__ = ["Identity", "identity", "record_export", "require_identity", "sign_out", "sso_enabled"]

IDENTITY_KEY = "pulse_identity"  # Identity of the signed-in account
LAST_SEEN_KEY = "pulse_last_seen"  # UTC datetime of the last interaction
METHOD_KEY = "pulse_auth_method"  # "password" or "sso"
NOTICE_KEY = "pulse_auth_notice"  # (kind, message) shown above the sign-in form once
PAGE_KEY = "pulse_page"  # title of the page being shown, for the audit log


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def identity() -> Identity:
    """The signed-in identity. Only callable after `require_identity()` let the run through."""
    ident = st.session_state.get(IDENTITY_KEY)
    if not isinstance(ident, Identity):
        st.error(_("You are not signed in."), icon=":material/lock:")
        st.stop()
    return ident


def sso_enabled() -> bool:
    """True when Streamlit's OIDC is configured ([auth] in .streamlit/secrets.toml)."""
    try:
        return bool(st.secrets.get("auth"))
    except Exception:  # no secrets file at all, or one that cannot be parsed
        return False


def require_identity(url_paths: tuple[str, ...] = ()) -> Identity:
    """The identity of this session, or the sign-in form and `st.stop()`. Every page URL in
    `url_paths` shows the same form (and keeps its URL, so after sign-in that page opens if
    the role may see it)."""
    ident = st.session_state.get(IDENTITY_KEY)
    if isinstance(ident, Identity):
        ident = _still_valid(ident)
        if ident is not None:
            st.session_state[LAST_SEEN_KEY] = seen = now()
            downloads.session_active(seen + dt.timedelta(minutes=state.settings().auth.session_idle_minutes))
            return ident
    elif sso_enabled() and st.user.is_logged_in:
        ident = _adopt_sso()
        if ident is not None:
            return ident
    forms = [st.Page(_sign_in_page, title=_("Sign in"), url_path="sign-in", default=True)]
    forms += [st.Page(_sign_in_page, title=_("Sign in"), url_path=p) for p in url_paths]
    st.navigation(forms, position="hidden").run()
    st.stop()
    raise AssertionError("unreachable")


def _end(ident: Identity, action: str, kind: str, message: str) -> None:
    audit.record(state.data_dir(), ident.name, action, message)
    downloads.session_ended()  # the session's download URLs stop working now
    for key in (IDENTITY_KEY, LAST_SEEN_KEY, METHOD_KEY, PAGE_KEY):
        st.session_state.pop(key, None)
    st.session_state[NOTICE_KEY] = (kind, message)


def _still_valid(ident: Identity) -> Identity | None:
    """Expire an idle session; end one whose account is gone or changed."""
    s = state.settings()
    idle = dt.timedelta(minutes=s.auth.session_idle_minutes)
    last = st.session_state.get(LAST_SEEN_KEY)
    method = st.session_state.get(METHOD_KEY, "password")
    if last is None or now() - last > idle:
        _end(
            ident,
            audit.SESSION_EXPIRED,
            "info",
            _("Your session expired after {minutes} minutes without activity. Sign in again.").format(
                minutes=s.auth.session_idle_minutes
            ),
        )
        if method == "sso":
            st.logout()  # the identity provider's cookie would sign the browser straight back in
        return None
    if method == "sso":
        current = accounts.sso_identity(s, st.user.get("email")) if st.user.is_logged_in else None
    else:
        account = accounts.get(state.data_dir(), ident.name)
        current = account.identity if account else None
    if current is not None and current.is_partner and current.partner_id not in s.partner_ids:
        current = None  # its partner left the config
    if current is None:
        _end(ident, audit.SESSION_ENDED, "warning", _("Your account was removed, so you were signed out."))
        return None
    if current != ident:
        _end(
            ident,
            audit.SESSION_ENDED,
            "warning",
            _("Your account's role or partner changed, so you were signed out. Sign in again."),
        )
        return None
    return ident


def _adopt_sso() -> Identity | None:
    email = st.user.get("email")
    ident = accounts.sso_identity(state.settings(), email)
    if ident is None:
        audit.record(state.data_dir(), email or None, audit.SIGN_IN_REFUSED, "sso: e-mail not in auth.sso_users")
        st.session_state[NOTICE_KEY] = (
            "error",
            _(
                "{who} may not use Wellbeing Pulse. Ask an admin to add your e-mail to "
                "auth.sso_users in campaign.toml, or sign out and use another account."
            ).format(who=email or _("This account")),
        )
        return None
    _start(ident, "sso")
    return ident


def _start(ident: Identity, method: str) -> None:
    st.session_state[IDENTITY_KEY] = ident
    st.session_state[LAST_SEEN_KEY] = now()
    st.session_state[METHOD_KEY] = method
    st.session_state.pop(NOTICE_KEY, None)
    downloads.session_active(now() + dt.timedelta(minutes=state.settings().auth.session_idle_minutes))
    audit.record(state.data_dir(), ident.name, audit.SIGN_IN, method)


def _local(t: dt.datetime) -> str:
    return labels.campaign_time(t, state.settings().tz)


def client_address() -> str | None:
    """The address this session connects from, as Streamlit sees it (the X-Forwarded-For
    client when a reverse proxy on this host passes it on); None from this host itself."""
    try:
        ip = st.context.ip_address
    except Exception:  # no client context (a bare script run)
        return None
    return ip if isinstance(ip, str) and ip else None  # AppTest's client is a stand-in object


def sign_in_message(result: accounts.SignIn, max_failed: int) -> str:
    """What the form says: the same words for an unknown name and an existing one."""
    if result.outcome == "throttled":
        return _("Too many failed sign-ins from your address. Try again after {until}.").format(
            until=_local(result.locked_until)
        )
    if result.outcome == "locked":
        return _(
            "Too many failed sign-ins with this account name from your address. Try again after "
            "{until}, or ask an admin to unlock it."
        ).format(until=_local(result.locked_until))
    if result.just_locked:
        return _(
            "Wrong account name or password. After {n} failed attempts, this account name is locked "
            "from your address until {until}."
        ).format(n=max_failed, until=_local(result.locked_until))
    return _("Wrong account name or password.")


def _check_password() -> None:
    """Form callback: runs before the rerun, so the password can be cleared from the widget."""
    name = st.session_state.get("sign_in_name", "").strip()
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""
    if not name or not password:
        st.session_state[NOTICE_KEY] = ("error", _("Enter your account name and password."))
        return
    d, s = state.data_dir(), state.settings()
    client = client_address()
    result = accounts.sign_in(d, s, name, password, now(), client=client)
    if result.outcome == "ok":
        state.adopt_account_language(result.account.language)
        _start(result.account.identity, "password")
        st.session_state["sign_in_name"] = ""
        return
    where = f"from {client or accounts.LOCAL_CLIENT}"
    if result.outcome in ("locked", "throttled") and not result.just_locked:
        what = "this name" if result.outcome == "locked" else "every name"
        detail = f"refused {where} ({what}) until {result.locked_until:%Y-%m-%dT%H:%MZ}"
        audit.record(d, name[:64], audit.SIGN_IN_LOCKED, detail)
    else:
        detail = f"wrong account name or password {where}"
        if result.just_locked:
            what = "this name" if result.outcome == "wrong" else "every name"
            detail += f"; now locked ({what}) until {result.locked_until:%Y-%m-%dT%H:%MZ}"
        audit.record(d, name[:64], audit.SIGN_IN_FAILED, detail)
    st.session_state[NOTICE_KEY] = ("error", sign_in_message(result, s.auth.max_failed_sign_ins))


def _sign_in_page() -> None:
    _left, middle, _right = st.columns([1, 2, 1])  # stacked on a phone, the empty sides take no room
    with middle:
        state.language_switch(state.SIGN_IN_LANG_KEY)
        st.title("Wellbeing Pulse")
        st.caption(_("Analytics for the #MentalWell-Being campaign. Sign in to see the figures."))
        notice = st.session_state.get(NOTICE_KEY)
        if notice:
            kind, message = notice
            getattr(st, kind)(message, icon=":material/lock:" if kind == "error" else ":material/info:")
        if sso_enabled():
            if st.user.is_logged_in:
                st.button(_("Sign out of single sign-on"), on_click=st.logout, icon=":material/logout:")
            else:
                st.button(_("Sign in with single sign-on"), on_click=st.login, type="primary", icon=":material/login:")
            st.caption(_("Or with a local account:"))
        with st.form("sign_in", border=True):
            st.text_input(_("Account name"), key="sign_in_name", autocomplete="username")
            st.text_input(_("Password"), key="sign_in_password", type="password", autocomplete="current-password")
            st.form_submit_button(_("Sign in"), type="primary", on_click=_check_password, icon=":material/login:")


def sign_out() -> None:
    """Button callback: end the session (and the SSO cookie, if signed in that way)."""
    ident = st.session_state.get(IDENTITY_KEY)
    method = st.session_state.get(METHOD_KEY)
    if isinstance(ident, Identity):
        _end(ident, audit.SIGN_OUT, "success", _("You are signed out."))
    if method == "sso":
        st.logout()


def record_export(detail: str) -> None:
    """Download callback: who exported which file from which page, in the audit log."""
    ident = st.session_state.get(IDENTITY_KEY)
    page = st.session_state.get(PAGE_KEY, "?")
    name = ident.name if isinstance(ident, Identity) else None
    audit.record(state.data_dir(), name, audit.EXPORT, f"page {page}: {detail}")


def sidebar(ident: Identity) -> None:
    """Who is signed in, and the sign-out button."""
    s = state.settings()
    if ident.is_partner:
        who = next((p.name for p in s.partners if p.id == ident.partner_id), ident.partner_id)
    else:
        who = labels.label("role", ident.role)
    with st.sidebar:
        st.caption(_("Signed in as **{name}** · {who}").format(name=ident.name, who=who))
        st.button(_("Sign out"), on_click=sign_out, icon=":material/logout:", key="sign_out")
