"""Downloads only for the signed-in session that made them, plus the server's own headers.

Streamlit serves every `st.download_button` file at `/media/<id>.<ext>` to anyone who has
the URL: no cookie, another browser, after sign-out (the id is a hash of the content). The
dashboard therefore runs behind `Guard`, an ASGI middleware added through `st.App`
(`dashboard/server.py`, which `pulse dashboard` runs):

- Every browser gets a random `pulse_browser` cookie (HttpOnly, SameSite=Strict) with its
  first page. The Streamlit session sees it in `st.context.cookies` (the WebSocket
  handshake carries it).
- A signed-in session registers here its browser cookie, its idle deadline and the id of
  every file its download buttons put in Streamlit's media store (`keep_files`, called by
  `dashboard/widgets.py` right after each button).
- `/media/<id>` is answered only when the request carries the cookie of a session that is
  still signed in, not past its idle deadline, and registered that id; otherwise 404, as
  for a file that does not exist. Sign-out, expiry and an account change drop the
  session's entry (`session_ended`), so its URLs stop working at once.
- `/_stcore/metrics` (Streamlit's unauthenticated Prometheus endpoint) answers 404.
- Every HTTP response gets `X-Content-Type-Options: nosniff`,
  `Content-Security-Policy: frame-ancestors 'none'`, `X-Frame-Options: DENY` and
  `Referrer-Policy: no-referrer`.

The registry is in this process's memory, like Streamlit's sessions and media files. It
reads which files a session references from Streamlit's media file manager; if Streamlit
changes that, `keep_files` finds nothing and downloads fail closed (404), never open.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

__all__ = ["BROWSER_COOKIE", "Guard", "browser_of_this_session", "keep_files", "may_fetch", "session_active",
           "session_ended", "this_session_id"]  # fmt: skip

BROWSER_COOKIE = "pulse_browser"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
# any path under media/, whatever follows (fail closed), except Streamlit's own bundled assets
# (/static/media/: its fonts, the Material icons among them)
_MEDIA = re.compile(r"(?:^|(?<!^/static)/)media/(.*)$")
_METRICS = re.compile(r"(?:^|/)_stcore/metrics(?:/|$)")


@dataclass
class _Session:
    browser: str
    deadline: dt.datetime  # UTC; after it the session's files are refused even if it never reruns
    files: set[str] = field(default_factory=set)


_sessions: dict[str, _Session] = {}
_lock = threading.Lock()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- called from the Streamlit script (dashboard/auth.py, dashboard/widgets.py) -------------


def this_session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def browser_of_this_session() -> str | None:
    """The `pulse_browser` cookie the session's WebSocket handshake carried (None in AppTest)."""
    import streamlit as st

    try:
        value = st.context.cookies.get(BROWSER_COOKIE)
    except Exception:  # no client context (AppTest, a bare script run)
        return None
    return value if isinstance(value, str) and value else None  # AppTest's client is a stand-in


def session_active(deadline: dt.datetime) -> None:
    """This session is signed in until `deadline` (now + the idle timeout), from its browser."""
    sid, browser = this_session_id(), browser_of_this_session()
    if sid is None:
        return
    with _lock:
        current = _sessions.get(sid)
        if browser is None:
            _sessions.pop(sid, None)
        elif current is None or current.browser != browser:
            _sessions[sid] = _Session(browser, deadline)
        else:
            current.deadline = deadline


def session_ended(session_id: str | None = None) -> None:
    """Sign-out, expiry, account change: every URL this session made stops working."""
    sid = session_id or this_session_id()
    if sid is not None:
        with _lock:
            _sessions.pop(sid, None)


def keep_files() -> None:
    """Register the media files this session's run references so far (the download buttons
    drawn up to here), for this signed-in session only."""
    sid = this_session_id()
    if sid is None:
        return
    try:
        from streamlit import runtime

        mgr = runtime.get_instance().media_file_mgr
        with mgr._lock:  # noqa: SLF001 - the only place that reads Streamlit's media bookkeeping
            ids = set(mgr._files_by_session_and_coord.get(sid, {}).values())  # noqa: SLF001
    except Exception:  # no runtime (AppTest) or Streamlit's internals changed: fail closed
        return
    with _lock:
        session = _sessions.get(sid)
        if session is not None:
            session.files |= ids


def may_fetch(file_id: str, browser: str | None, now: dt.datetime | None = None) -> bool:
    """May a request carrying cookie `browser` fetch media file `file_id`?"""
    if not browser:
        return False
    t = now or _now()
    with _lock:
        for sid, s in list(_sessions.items()):
            if s.deadline <= t:
                del _sessions[sid]  # expired without another interaction
            elif secrets.compare_digest(s.browser, browser) and file_id in s.files:
                return True
    return False


# --- the ASGI middleware ------------------------------------------------------------------


def _cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    for k, v in headers:
        if k.lower() == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(v.decode("latin-1"))
            except Exception:
                continue
            if BROWSER_COOKIE in jar and jar[BROWSER_COOKIE].value:
                return jar[BROWSER_COOKIE].value
    return None


class Guard:
    """ASGI middleware in front of Streamlit's routes (see the module docstring)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        browser = _cookie(scope.get("headers", []))
        if _METRICS.search(path):
            await _not_found(send)
            return
        media = _MEDIA.search(path)
        if media is not None and not may_fetch(media.group(1).strip("/").split("/")[-1].split(".", 1)[0], browser):
            await _not_found(send)
            return
        new_cookie = None
        if browser is None and media is None:
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            new_cookie = f"{BROWSER_COOKIE}={secrets.token_urlsafe(32)}; Path=/; HttpOnly; SameSite=Strict{secure}"

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                if new_cookie is not None:
                    headers.append((b"set-cookie", new_cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _not_found(send) -> None:
    body = b"Not found"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
