"""Alert delivery through Apprise, after the publish (so it never blocks one).

What each route received is kept in `DATA_DIR/alerts/deliveries.json` (outside the snapshots:
a delivery happens after the publish); a message a route could not take (its server down) stays
due and is sent again at the next refresh. Messages come from the published snapshot's outbox
(`alert_messages`, incidents opened or escalated) and, for admin routes, from
`DATA_DIR/alerts/outbox.jsonl` (failed refreshes) and the staleness of the data (no success for
two scheduled intervals). URLs may name environment variables (`${SMTP_PASSWORD}`); their values
are put in only when a message is sent and never written to a log or to the deliveries file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import ENV_REF, AlertRoute, Settings
from queries import alerts as qa
from queries.status import freshness
from queries.warehouse import NothingPublished, open_published

log = logging.getLogger("pulse.notify")
RECENT = dt.timedelta(hours=48)  # a message older than this, of an incident since resolved, is not sent any more


@dataclass(frozen=True)
class Message:
    message_id: str
    title: str
    body: str
    incident: qa.Incident | None = None  # None for a refresh's failure or stale data (admins only)
    kind: str = "opened"


def alerts_dir(d: DataDir) -> Path:
    p = d.root / "alerts"
    p.mkdir(mode=0o700, exist_ok=True)
    return p


def route_key(i: int, r: AlertRoute) -> str:
    """Names a route without its secrets: the URL as written (with `${NAME}`, not the value)."""
    return f"{i + 1}:" + hashlib.sha256(f"{r.url}|{r.audience}|{r.partner}".encode()).hexdigest()[:12]


def route_name(i: int, r: AlertRoute) -> str:
    """What logs and `pulse alerts test` print: the number, the audience and the scheme only."""
    scheme = r.url.split("://", 1)[0] if "://" in r.url else "?"
    who = f"partner {r.partner}" if r.partner else r.audience
    return f"route {i + 1} ({who}, {scheme}://…)"


def expand(url: str) -> tuple[str, list[str]]:
    """`${NAME}` replaced from the environment; returns the URL and the secret values put in."""
    values: list[str] = []

    def put(m: Any) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise PulseError(f"alerts.routes: the environment variable {name} named in a route's url is not set")
        values.append(os.environ[name])
        return os.environ[name]

    return ENV_REF.sub(put, url), [v for v in values if v]


def redact(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return text


# --- the words ---------------------------------------------------------------------------


def _count(n: float, min_cell: int | None) -> str:
    if min_cell is not None and n < min_cell:
        return f"<{min_cell}"
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def incident_message(settings: Settings, inc: qa.Incident, kind: str, audience: str, message_id: str) -> Message:
    """Metric, place, day, observed and expected, and the dashboard link; a partner never sees a
    count below privacy.min_cell."""
    min_cell = settings.privacy.min_cell if audience == "partner" else None
    metric = qa.metric_words(inc.metric)
    partner = next((p.name for p in settings.partners if p.id == inc.partner_id), inc.partner_id)
    place = qa.place_words(inc.place)
    what = "up" if inc.direction == "rise" else "down"
    verb = {"opened": "New alert", "escalated": "Alert escalated"}.get(kind, "Alert")
    day = f"{inc.peak_day:%a %d %b %Y}"
    title = f"{verb}: {metric}{' (' + partner + ')' if partner else ''} {what} in {place} on {day}"
    window = "that day" if inc.direction == "rise" else f"the 7 days to {day}"
    basis = (
        "the median of the same weekday over the previous 4 weeks"
        if inc.direction == "rise"
        else "the median of the same 7 days of the week over the previous 4 weeks"
    )
    lines = [
        f"Metric: {metric}" + (f", {partner}" if partner else ""),
        f"Place: {place}",
        f"Day: {day}" + (f" (unusual since {inc.first_day:%a %d %b})" if inc.first_day != inc.peak_day else ""),
        f"Observed: {_count(inc.observed, min_cell)} ({window})",
        f"Expected: {_count(round(inc.expected, 1), min_cell)} ({basis})",
        f"Status: {inc.status}",
        f"View: {qa.dashboard_link(settings, inc, audience)}",
    ]
    return Message(message_id, title, "\n".join(lines), inc, kind)


def _system_messages(settings: Settings, d: DataDir, now: dt.datetime) -> list[Message]:
    out: list[Message] = []
    path = alerts_dir(d) / "outbox.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                m = json.loads(line)
                at = dt.datetime.fromisoformat(m["message_id"].split("/", 1)[1])
                if now - at <= RECENT:  # a route added later is not flooded with old failures
                    out.append(Message(m["message_id"], m["title"], m["body"], None, m["kind"]))
    fresh = freshness(d, settings, now)
    if fresh is not None and fresh.is_stale:
        since = fresh.last_success.isoformat(timespec="seconds")
        out.append(
            Message(
                f"stale/{since}",
                f"Wellbeing Pulse: no successful refresh since {since}",
                f"The data was last refreshed at {since} (UTC), more than two scheduled intervals ago."
                + (f"\nLast failure: {fresh.failure_reason}" if fresh.failure_reason else "")
                + f"\nView: {settings.dashboard.url}/data-health",
                None,
                "stale",
            )
        )
    return out


def note_failed_refresh(d: DataDir, reason: str, now: dt.datetime | None = None) -> None:
    """Queue a failed refresh for the admin routes (delivered by `deliver`)."""
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds")
    line = {
        "message_id": f"failure/{at}",
        "kind": "failure",
        "title": f"Wellbeing Pulse: the refresh failed at {at}",
        "body": f"Reason: {reason}\nThe published data stays as it was; the next run retries.",
    }
    fd = os.open(alerts_dir(d) / "outbox.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # private, one write
    try:
        os.write(fd, (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
    finally:
        os.close(fd)


# --- delivery ----------------------------------------------------------------------------


def _load_state(d: DataDir) -> dict[str, Any]:
    p = alerts_dir(d) / "deliveries.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {"routes": {}}


def _save_state(d: DataDir, state: dict[str, Any]) -> None:
    p = alerts_dir(d) / "deliveries.json"
    tmp = p.with_name(f".{p.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, p)


def _published(d: DataDir) -> tuple[list[tuple[str, str, dt.datetime, qa.Incident]], set[tuple[str, dt.date]]]:
    """The outbox rows with their incidents, and the released (partner, week) pairs."""
    try:
        con = open_published(d)
    except NothingPublished:
        return [], set()
    try:
        if not qa.has_alerts(con):
            return [], set()
        rows = con.sql(
            "select m.message_id, m.kind, m.created_at, i.incident_id, i.metric, i.partner_id, i.place, i.direction, "
            "i.first_day, i.last_day, m.day, m.observed, m.expected, m.level, i.status "
            "from alert_messages as m join alert_incidents as i using (incident_id) order by m.created_at, m.message_id"
        ).fetchall()
        released = set(con.sql("select distinct partner_id, week_start from partner_releases").fetchall())
    finally:
        con.close()
    return [(r[0], r[1], r[2], qa.Incident(*r[3:])) for r in rows], released


def _in_quiet_hours(settings: Settings, now: dt.datetime) -> bool:
    q = settings.alerts.quiet_hours
    if not q:
        return False
    local = now.astimezone(settings.tz).strftime("%H:%M")
    start, end = q
    return start <= local < end if start <= end else local >= start or local < end


def due_messages(
    settings: Settings, d: DataDir, i: int, route: AlertRoute, now: dt.datetime, sent: set[str]
) -> list[Message]:
    """What this route should receive now and has not yet received."""
    outbox, released = _published(d)
    visible: list[tuple[str, str, dt.datetime, qa.Incident]] = []
    for message_id, kind, created, inc in outbox:
        if route.audience == "partner" and (
            inc.partner_id != route.partner or (inc.partner_id, inc.week_start) not in released
        ):
            continue
        if inc.status != "open" and now - created > RECENT:
            continue
        visible.append((message_id, kind, created, inc))
    out: list[Message] = []
    if route.audience == "admin":
        out += [m for m in _system_messages(settings, d, now) if m.message_id not in sent]
    if route.digest:
        local = now.astimezone(settings.tz)
        digest_id = f"digest/{local.date().isoformat()}"
        if local.hour >= settings.alerts.digest_hour and digest_id not in sent and visible:
            latest = {inc.incident_id: (kind, inc) for _, kind, _, inc in visible}
            parts = [incident_message(settings, inc, kind, route.audience, "") for kind, inc in latest.values()]
            body = "\n\n".join(f"{m.title}\n{m.body}" for m in parts)
            out.append(Message(digest_id, f"Wellbeing Pulse daily digest: {len(parts)} alert(s)", body, None, "digest"))
        return out
    if _in_quiet_hours(settings, now):
        return out
    return out + [
        incident_message(settings, inc, kind, route.audience, message_id)
        for message_id, kind, _, inc in visible
        if message_id not in sent
    ]


def send(url: str, title: str, body: str) -> bool:
    """One message through Apprise; False when the route did not take it."""
    import apprise  # here, not at the top: a refresh that sends nothing does not pay its 0.13 s import

    a = apprise.Apprise()
    if not a.add(url):
        return False
    return bool(a.notify(title=title, body=body))


def deliver(settings: Settings, d: DataDir, now: dt.datetime | None = None) -> dict[str, Any]:
    """Send every route what is due; record what it took. Never raises: a route that fails is
    retried at the next refresh, and the publish is already done."""
    now = now or dt.datetime.now(dt.UTC)
    state = _load_state(d)
    summary: dict[str, Any] = {"sent": 0, "failed": 0, "routes": []}
    for i, route in enumerate(settings.alerts.routes):
        key = route_key(i, route)
        rs = state["routes"].setdefault(key, {"sent": [], "failures": {}})
        secrets: list[str] = []
        outcome = {"route": route_name(i, route), "sent": 0, "failed": 0}
        try:
            url, secrets = expand(route.url)
            for m in due_messages(settings, d, i, route, now, set(rs["sent"])):
                if send(url, m.title, m.body):
                    rs["sent"].append(m.message_id)
                    rs["failures"].pop(m.message_id, None)
                    outcome["sent"] += 1
                else:
                    f = rs["failures"].setdefault(m.message_id, {"attempts": 0})
                    f.update(attempts=f["attempts"] + 1, last_at=now.isoformat(timespec="seconds"))
                    outcome["failed"] += 1
        except Exception as e:  # a bad URL, a missing variable: this route only, the others go on
            outcome["error"] = redact(str(e), secrets)
            outcome["failed"] += 1
        if outcome["failed"]:
            log.warning("alerts: %s: %d sent, %d not delivered (retried at the next refresh)%s", outcome["route"],
                        outcome["sent"], outcome["failed"], f": {outcome['error']}" if "error" in outcome else "")  # fmt: skip
        summary["sent"] += outcome["sent"]
        summary["failed"] += outcome["failed"]
        summary["routes"].append(outcome)
    state["last_delivery"] = {"at": now.isoformat(timespec="seconds"), **summary}
    try:
        _save_state(d, state)
    except OSError as e:
        log.warning("alerts: could not record deliveries: %s", e.strerror)
    return summary


def after_refresh(
    settings: Settings | None, d: DataDir, failure: str | None = None, now: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The refresh's one call after its outcome is recorded: queue a failure for admins, deliver
    (`now`, for quiet hours and the digest: the clock unless given). Never raises (the refresh's
    own result must not change because a chat server is down)."""
    try:
        if failure is not None:
            note_failed_refresh(d, failure)
        if settings is None or not settings.alerts.routes:
            return None
        return deliver(settings, d, now)
    except Exception as e:  # noqa: BLE001 - best effort, logged in one line without secrets
        log.warning("alerts: delivery skipped: %s", type(e).__name__)
        return None


def test_routes(settings: Settings) -> list[tuple[str, bool]]:
    """`pulse alerts test`: one test message to every route; (route name, delivered)."""
    out = []
    for i, route in enumerate(settings.alerts.routes):
        try:
            url, _ = expand(route.url)
            ok = send(
                url, "Wellbeing Pulse: test message", f"A test of {route_name(i, route)} from `pulse alerts test`."
            )
        except PulseError:
            raise
        except Exception:  # noqa: BLE001
            ok = False
        out.append((route_name(i, route), ok))
    return out
