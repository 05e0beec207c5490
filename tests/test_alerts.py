"""Alerts (issue 18): detection on the demo's planted surges, incidents, and delivery through
Apprise to real receivers: a local SMTP server (aiosmtpd) and a local HTTP server (json://)."""

from __future__ import annotations

import datetime as dt
import email
import json
import logging
import re
import shutil
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from core.datadir import DataDir
from core.errors import PulseError
from core.settings import Settings, settings_from_dict
from pipelines import notify
from pipelines.alerts import record_alert_incidents
from pipelines.demo_data import DemoSpec, write_demo_data
from pipelines.refresh import refresh
from queries.warehouse import published, published_snapshot_id
from tests.warehouse_edit import planted, scratch

END = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # 10:00 in Phnom Penh: outside quiet hours
SECRET = "s3cr3t-Pa55word-xyz"


def with_routes(routes: list[dict], **alerts) -> Settings:
    return settings_from_dict(
        {"alerts": {"routes": routes, **alerts}, "dashboard": {"url": "https://pulse.example.org"}}
    )


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    d = DataDir(tmp_path_factory.mktemp("alerts-demo")).ensure()
    write_demo_data(Settings(), d, DemoSpec(days=60, scale=1.0, seed=20261010, end=END))
    refresh(Settings(), d, settle_seconds=0, now=NOW)
    return d


def incidents(d: DataDir) -> list[dict]:
    with published(d) as con:
        cols = [c for (c,) in con.sql("select column_name from (describe alert_incidents)").fetchall()]
        return [
            dict(zip(cols, r, strict=True)) for r in con.sql("select * from alert_incidents order by all").fetchall()
        ]


def copy_data_dir(src: DataDir, dst: Path) -> DataDir:
    shutil.copytree(src.root, dst, symlinks=True)
    return DataDir(dst)


# --- detection -------------------------------------------------------------------------


def test_planted_surges_are_detected_with_metric_place_and_day(demo_warehouse: DataDir) -> None:
    found = {(i["metric"], i["partner_id"], i["place"], i["direction"]): i for i in incidents(demo_warehouse)}
    surge = found[("reports_self_harm", "", "KH-17", "rise")]
    assert (surge["first_day"], surge["peak_day"], surge["status"]) == (dt.date(2026, 11, 29),) * 2 + ("open",)
    assert surge["observed"] >= 30 and surge["expected"] <= 1
    drop = found[("helpline_taps", "child-helpline-cambodia", "all", "drop")]
    assert drop["status"] == "open" and drop["observed"] == 0 and drop["expected"] >= 20
    # taps stop on 24 Nov; the 7 days to 29 Nov are the first below the Poisson quantile of their baseline
    assert drop["first_day"] == dt.date(2026, 11, 29)
    assert (surge["observed"], drop["observed"]) == (30, 0)
    # a one-day rise on 26 Nov, then normal days: resolved after alerts.resolve_after_days (2)
    past = found[("helpline_taps", "tpo-cambodia", "all", "rise")]
    assert (past["first_day"], past["observed"], past["status"]) == (dt.date(2026, 11, 26), 8, "resolved")


def test_a_quiet_60_days_raises_at_most_one_false_alert_per_metric(demo_warehouse: DataDir) -> None:
    """Every day that has four weeks of history checked (lookback 60), the planted series left out."""
    with scratch(demo_warehouse) as con:  # a what-if on what is published, rolled back
        con.execute("delete from alert_incidents; delete from alert_messages")
        s = settings_from_dict({"alerts": {"lookback_days": 60}})
        record_alert_incidents(con, s, "test", NOW)
        rows = con.sql("select metric, partner_id, place, first_day from alert_incidents").fetchall()
    planted_day = dt.date(2026, 11, 29)
    false = [
        r
        for r in rows
        if not (r[2] in ("KH-17", "all") and r[0].startswith("reports") and r[3] == planted_day)
        and not (r[0].startswith("helpline") and r[1] == "child-helpline-cambodia")
    ]
    per_metric: dict[str, int] = {}
    for r in false:
        per_metric[r[0]] = per_metric.get(r[0], 0) + 1
    assert all(n <= 1 for n in per_metric.values()), per_metric


def test_an_incident_is_not_reopened_nor_messaged_twice(demo_warehouse: DataDir) -> None:
    with scratch(demo_warehouse) as con:
        before = con.sql("select count(*) from alert_messages").fetchall()[0][0]
        counts = record_alert_incidents(con, Settings(), "again", NOW)
        assert (counts["opened"], counts["escalated"]) == (0, 0)
        assert con.sql("select count(*) from alert_messages").fetchall()[0][0] == before
        # no new day of data, 30 days on: the open incidents stay open (only normal days resolve them)
        assert record_alert_incidents(con, Settings(), "later", NOW + dt.timedelta(days=30))["resolved"] == 0


# --- receivers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_server():
    box = Mailbox()

    def auth(server, session, envelope, mechanism, auth_data):
        box.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    port = free_port()
    c = Controller(box, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    c.start()
    yield box, port
    c.stop()


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield received, server.server_address[1]
    server.shutdown()
    server.server_close()


def plain_text(content: str) -> str:
    msg = email.message_from_string(content)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def mail_route(port: int) -> str:
    return (
        f"mailto://pulse:${{PULSE_TEST_SMTP_PASSWORD}}@127.0.0.1:{port}"
        "?smtp=127.0.0.1&mode=insecure&from=pulse@example.org&to=policy@example.org"
    )


def test_mail_and_webhook_receive_the_incidents_and_the_secret_is_never_logged(
    demo_warehouse: DataDir, tmp_path: Path, smtp_server, webhook, monkeypatch, caplog
) -> None:
    box, port = smtp_server
    received, hook_port = webhook
    monkeypatch.setenv("PULSE_TEST_SMTP_PASSWORD", SECRET)
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    s = with_routes(
        [
            {"url": mail_route(port), "audience": "policy"},
            {"url": f"json://127.0.0.1:{hook_port}/hook", "audience": "policy"},
        ]
    )
    caplog.set_level(logging.DEBUG)
    summary = notify.deliver(s, d, NOW)
    n = len([i for i in incidents(d)])
    assert summary["failed"] == 0 and summary["sent"] == 2 * n
    assert box.logins[0] == ("pulse", SECRET)  # the variable reached the server ...
    bodies = [(rcpt, plain_text(content)) for _, rcpt, content in box.messages]
    rcpt, body = next(b for b in bodies if "Reports of self-harm content" in b[1] and "Siem Reap" in b[1])
    assert rcpt == ["policy@example.org"]
    for words in ("Reports of self-harm content", "Siem Reap", "Sun 29 Nov 2026", "Observed: ", "Expected: "):
        assert words in body
    assert "https://pulse.example.org/safety?from=2026-11-02&to=2026-11-29&province=KH-17" in body
    hook = next(r for r in received if "Helpline card taps" in r["title"])
    assert hook["path"] == "/hook" and "Observed: 0 (the 7 days to" in hook["message"]
    assert "https://pulse.example.org/referrals?" in hook["message"]
    # ... and it is nowhere else: not in a log line, not in the deliveries record
    assert SECRET not in caplog.text
    assert SECRET not in (d.root / "alerts" / "deliveries.json").read_text()
    # a second delivery sends nothing new
    assert notify.deliver(s, d, NOW + dt.timedelta(hours=1))["sent"] == 0


def test_a_partner_route_gets_only_its_own_released_incidents_and_no_count_below_min_cell(
    demo_warehouse: DataDir, tmp_path: Path, webhook
) -> None:
    received, port = webhook
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    with planted(d) as con:  # an incident of tpo-cambodia in a released week, and one of arom-station
        week = con.sql("select max(week_start) from partner_releases where partner_id = 'tpo-cambodia'").fetchall()
        week = week[0][0]
        for pid, obs in (("tpo-cambodia", 3), ("arom-station", 40)):
            iid = f"helpline_taps/{pid}/all/drop/{week}"
            con.execute(
                "insert into alert_incidents values (?, 'helpline_taps', ?, 'all', 'drop', ?, ?, ?, ?, 25.0, 3, "
                "'open', now(), now(), null, 'x')",
                [iid, pid, week, week, week, obs],
            )
            con.execute(
                "insert into alert_messages values (?, ?, 'opened', ?, ?, 25.0, 3, ?, 'x')",
                [iid + "/o", iid, week, obs, NOW],
            )
    s = with_routes([{"url": f"json://127.0.0.1:{port}/tpo", "audience": "partner", "partner": "tpo-cambodia"}])
    # its own planted one and the demo's own tpo-cambodia rise of 26 Nov (8 taps against 1)
    assert notify.deliver(s, d, NOW)["sent"] == 2
    texts = {r["title"]: r["message"] for r in received}
    assert all("Transcultural Psychosocial Organization Cambodia" in t for t in texts)
    assert not any("Arom" in t + m for t, m in texts.items())
    assert all("Observed: <10" in m for m in texts.values())
    mine = next(m for m in texts.values() if f"portal?week={week}" in m and "Expected: 25" in m)
    assert "Observed: <10 (the 7 days to" in mine
    assert not any(re.search(r"(Observed|Expected): [0-9](\.[0-9])? ", m) for m in texts.values())
    # another partner's route: only its own drop (week of 23 Nov, released on 1 Dec), none of the above
    received.clear()
    s2 = with_routes(
        [{"url": f"json://127.0.0.1:{port}/chc", "audience": "partner", "partner": "child-helpline-cambodia"}]
    )
    assert notify.deliver(s2, d, NOW)["sent"] == 1
    assert "Helpline card taps (Child Helpline Cambodia) down in Cambodia" in received[0]["title"]
    # before that week was released (a snapshot without its release), nothing for that partner
    with planted(d) as con:
        con.execute("delete from partner_releases where week_start = '2026-11-23'")
    s3 = with_routes(
        [{"url": f"json://127.0.0.1:{port}/chc2", "audience": "partner", "partner": "child-helpline-cambodia"}]
    )
    assert notify.deliver(s3, d, NOW)["sent"] == 0


def test_a_failed_refresh_reaches_the_admin_route(tmp_path: Path, webhook) -> None:
    received, port = webhook
    d = DataDir(tmp_path / "d").ensure()
    (d.landing / "engagement").mkdir(parents=True, exist_ok=True)
    (d.root / "secrets").mkdir(exist_ok=True)
    s = with_routes(
        [
            {"url": f"json://127.0.0.1:{port}/admin", "audience": "admin"},
            {"url": f"json://127.0.0.1:{port}/policy", "audience": "policy"},
        ]  # fmt: skip
    )
    (d.landing / "engagement" / "a.csv").write_text(
        "event_id,event_time,user_id,event_type\n1,2026-11-01T00:00:00Z,u,hub_visit\n"
    )
    import os

    os.environ["PULSE_HMAC_KEY"] = "short"  # refused: the refresh fails with one line
    try:
        with pytest.raises(PulseError):
            refresh(s, d, settle_seconds=0)
    finally:
        del os.environ["PULSE_HMAC_KEY"]
    assert [r["path"] for r in received] == ["/admin"]
    assert "the refresh failed" in received[0]["title"] and "PULSE_HMAC_KEY" in received[0]["message"]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [d.root / "alerts", *(d.root / "alerts").iterdir()]}
    assert modes == {"alerts": 0o700, "outbox.jsonl": 0o600, "deliveries.json": 0o600}  # private, as the data dir


def test_a_route_that_is_down_is_retried_at_the_next_refresh_and_never_blocks_the_publish(
    demo_warehouse: DataDir, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    s = with_routes([{"url": f"json://127.0.0.1:{port}/down", "audience": "policy"}])
    before = published_snapshot_id(d)
    # at a fixed time of day: at the clock's time, quiet hours (22:00-07:00 in Phnom Penh) would hold them
    summary = notify.after_refresh(s, d, now=NOW)
    assert summary is not None and summary["sent"] == 0 and summary["failed"] >= 2
    assert published_snapshot_id(d) == before  # the publish stands
    state = json.loads((d.root / "alerts" / "deliveries.json").read_text())
    assert all(f["attempts"] == 1 for r in state["routes"].values() for f in r["failures"].values())
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["title"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert notify.after_refresh(s, d, now=NOW)["sent"] == summary["failed"]  # the next refresh's delivery
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == summary["failed"]


def test_quiet_hours_hold_incident_messages(demo_warehouse: DataDir, tmp_path: Path, webhook) -> None:
    received, port = webhook
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    s = with_routes([{"url": f"json://127.0.0.1:{port}/p", "audience": "policy"}])
    night = dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC)  # 23:30 in Phnom Penh
    assert notify.deliver(s, d, night)["sent"] == 0
    assert notify.deliver(s, d, night + dt.timedelta(hours=8))["sent"] == len(incidents(d))


def test_route_config_is_validated() -> None:
    with pytest.raises(PulseError, match=r"alerts.routes\[0\]: Value error|audience partner needs partner"):
        with_routes([{"url": "json://x", "audience": "partner"}])
    with pytest.raises(PulseError, match="'nobody' is not a partner id"):
        with_routes([{"url": "json://x", "audience": "partner", "partner": "nobody"}])
    with pytest.raises(PulseError, match="alerts.routes.0.audience|alerts.routes\\[0\\].audience"):
        with_routes([{"url": "json://x", "audience": "everyone"}])


def test_pulse_alerts_list_and_test(demo_warehouse: DataDir, tmp_path: Path, pulse, webhook) -> None:
    received, port = webhook
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    cfg = tmp_path / "campaign.toml"
    cfg.write_text(
        f'[dashboard]\nurl = "https://pulse.example.org"\n'
        f'[[alerts.routes]]\nurl = "json://127.0.0.1:{port}/${{HOOK_PATH}}"\naudience = "admin"\n',
        encoding="utf-8",
    )
    r = pulse("alerts", "list", "--json", "--data-dir", str(d.root), "--config", str(cfg))
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert [x["incident_id"] for x in rows] == [
        "helpline_taps/child-helpline-cambodia/all/drop/2026-11-29",
        "reports/-/KH-17/rise/2026-11-29",
        "reports_self_harm/-/KH-17/rise/2026-11-29",
        "reports_self_harm/-/all/rise/2026-11-29",
    ]
    surge = rows[2]
    assert (surge["observed"], surge["status"], surge["link"]) == (
        30,
        "open",
        "https://pulse.example.org/safety?from=2026-11-02&to=2026-11-29&province=KH-17",
    )
    text = pulse("alerts", "list", "--data-dir", str(d.root), "--config", str(cfg))
    assert "open     reports_self_harm rise in KH-17 on 2026-11-29: 30 against" in text.out
    r = pulse("alerts", "test", "--config", str(cfg), env={"HOOK_PATH": "ops"})
    assert (r.code, r.out) == (0, "route 1 (admin, json://…): delivered\n")
    assert [x["path"] for x in received] == ["/ops"] and received[0]["title"] == "Wellbeing Pulse: test message"
    cfg.write_text(
        f'[[alerts.routes]]\nurl = "json://127.0.0.1:{free_port()}/x"\naudience = "policy"\n', encoding="utf-8"
    )
    r = pulse("alerts", "test", "--config", str(cfg))
    assert r.code == 1
    assert r.err.strip().splitlines()[-1] == (
        "Error: 1 of 1 routes did not take the test message: route 1 (policy, json://…)"
    )
    r = pulse("alerts", "test", "--config", str(cfg.with_name("none.toml")))
    assert r.code == 1


def test_stale_data_reaches_the_admin_route_once(demo_warehouse: DataDir, tmp_path: Path, webhook) -> None:
    """No success for two scheduled intervals (schedule.cron hourly: 2 h): one message to admins."""
    received, port = webhook
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    s = with_routes(
        [
            {"url": f"json://127.0.0.1:{port}/admin", "audience": "admin"},
            {"url": f"json://127.0.0.1:{port}/policy", "audience": "policy"},
        ],  # fmt: skip
        quiet_hours=None,
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    notify.deliver(s, d, later)
    stale = [r for r in received if "no successful refresh since" in r["title"]]
    assert [r["path"] for r in stale] == ["/admin"]
    received.clear()
    notify.deliver(s, d, later + dt.timedelta(hours=1))
    assert received == []  # once per stale episode


def test_an_escalation_sends_one_more_message(demo_warehouse: DataDir) -> None:
    iid = "reports_self_harm/-/KH-17/rise/2026-11-29"
    with scratch(demo_warehouse) as con:
        con.execute("update alert_incidents set level = 1 where incident_id = ?", [iid])  # as if it had been smaller
        counts = record_alert_incidents(con, Settings(), "again", NOW)
        assert (counts["opened"], counts["escalated"]) == (0, 1)
        kinds = con.execute(
            "select kind, level from alert_messages where incident_id = ? order by all", [iid]
        ).fetchall()
        assert kinds == [("escalated", 5), ("opened", 5)]


def test_a_digest_route_gets_one_digest_a_day(demo_warehouse: DataDir, tmp_path: Path, webhook) -> None:
    received, port = webhook
    d = copy_data_dir(demo_warehouse, tmp_path / "d")
    s = with_routes([{"url": f"json://127.0.0.1:{port}/digest", "audience": "policy", "digest": True}])
    early = dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC)  # 07:30 in Phnom Penh: before digest_hour 8
    assert notify.deliver(s, d, early)["sent"] == 0
    assert notify.deliver(s, d, NOW)["sent"] == 1
    assert received[0]["title"] == f"Wellbeing Pulse daily digest: {len(incidents(d))} alert(s)"
    assert "Reports of self-harm content up in Siem Reap on Sun 29 Nov 2026" in received[0]["message"]
    assert notify.deliver(s, d, NOW + dt.timedelta(hours=5))["sent"] == 0
