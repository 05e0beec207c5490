"""Alert detection and incidents, written into the snapshot being built (so never half-written).

`record_alert_incidents` is the one call the refresh makes, after its marts are built: the
detection (`pipelines/sql/alerts_detect.sql`, one vectorised statement over the marts) finds
the unusual days of the last `alerts.lookback_days` complete days; this module turns them into
incidents (open one, update it while it lasts, escalate it when it grows a level, resolve it
after `alerts.resolve_after_days` normal days) and writes one outbox message per opening and
per escalation (`alert_messages`). Delivery is pipelines/notify.py, after the publish.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import duckdb

from core.settings import Settings
from core.sqlfiles import sql

log = logging.getLogger("pulse.alerts")


@dataclass
class Unusual:
    metric: str
    partner_id: str
    place: str
    day: dt.date
    direction: str
    observed: int
    expected: float
    threshold: int

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.metric, self.partner_id, self.place, self.direction)

    @property
    def level(self) -> int:
        return level_of(self.direction, self.observed, self.expected)


def level_of(direction: str, observed: float, expected: float) -> int:
    """1 for 2x (or half), 2 for 4x (a quarter), 3 for 8x …: escalation steps."""
    ratio = observed / max(expected, 0.5) if direction == "rise" else max(expected, 0.5) / max(observed, 0.5)
    return max(1, math.floor(math.log2(max(ratio, 1.0)) + 1e-9))


def detection_params(settings: Settings, first_day: dt.date, last_day: dt.date) -> dict[str, Any]:
    a = settings.alerts
    return {
        "first_day": first_day,
        "last_day": last_day,
        "alpha": a.tail_probability,
        "z": NormalDist().inv_cdf(1 - a.tail_probability),
        "min_count": a.min_count,
        "min_expected": a.min_expected,
        "min_ratio": a.min_ratio,
    }


def checked_days(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: dt.datetime
) -> tuple[dt.date, dt.date] | None:
    """The complete campaign days to check: up to yesterday (today is still filling up), at most
    the data's last day, `alerts.lookback_days` of them."""
    (last_data,) = con.sql("select max(day) from mart_totals_daily").fetchall()[0]
    if last_data is None:
        return None
    last = min(last_data, now.astimezone(settings.tz).date() - dt.timedelta(days=1))
    return last - dt.timedelta(days=settings.alerts.lookback_days - 1), last


def detect(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: dt.datetime
) -> tuple[list[Unusual], dt.date | None]:
    """The unusual days of the checked period (one SQL statement over the marts), and its last day."""
    days = checked_days(con, settings, now)
    if days is None:
        return [], None
    rows = con.execute(sql("alerts_detect", "pipelines"), detection_params(settings, *days)).fetchall()
    return [Unusual(*r) for r in rows], days[1]


def record_alert_incidents(
    con: duckdb.DuckDBPyConnection, settings: Settings, snapshot_id: str, now: dt.datetime
) -> dict[str, int]:
    """Detect, then open, update, escalate and resolve incidents in this snapshot; queue messages."""
    started = time.perf_counter()
    unusual, last_checked = detect(con, settings, now)
    counts = {"unusual_days": len(unusual), "opened": 0, "escalated": 0, "resolved": 0}
    if last_checked is None:
        return counts
    cols = [c for (c,) in con.sql("select column_name from (describe alert_incidents)").fetchall()]
    existing = [dict(zip(cols, r, strict=True)) for r in con.sql("select * from alert_incidents").fetchall()]
    open_by_key = {
        (i["metric"], i["partner_id"], i["place"], i["direction"]): i for i in existing if i["status"] == "open"
    }
    resolved_until: dict[tuple[str, str, str, str], dt.date] = {}
    for i in existing:
        if i["status"] == "resolved":
            k = (i["metric"], i["partner_id"], i["place"], i["direction"])
            resolved_until[k] = max(resolved_until.get(k, i["last_day"]), i["last_day"])
    by_key: dict[tuple[str, str, str, str], list[Unusual]] = {}
    for u in unusual:
        by_key.setdefault(u.key, []).append(u)
    changed: dict[str, dict[str, Any]] = {}
    messages: list[tuple[Any, ...]] = []

    def message(inc: dict[str, Any], kind: str) -> None:
        messages.append(
            (
                f"{inc['incident_id']}/{kind}/{inc['level']}",
                inc["incident_id"],
                kind,
                inc["peak_day"],
                inc["observed"],
                inc["expected"],
                inc["level"],
                now,
                snapshot_id,
            )
        )

    for key, days in by_key.items():
        inc = open_by_key.get(key)
        if inc is None:
            days = [u for u in days if u.day > resolved_until.get(key, dt.date.min)]  # never reopen old days
            if not days:
                continue
            peak = max(days, key=lambda u: (u.level, u.day))
            inc = {
                "incident_id": "/".join([key[0], key[1] or "-", key[2], key[3], days[0].day.isoformat()]),
                "metric": key[0],
                "partner_id": key[1],
                "place": key[2],
                "direction": key[3],
                "first_day": days[0].day,
                "last_day": days[-1].day,
                "peak_day": peak.day,
                "observed": peak.observed,
                "expected": float(peak.expected),
                "level": peak.level,
                "status": "open",
                "opened_at": now,
                "updated_at": now,
                "resolved_at": None,
                "load_id": snapshot_id,
            }
            open_by_key[key] = changed[inc["incident_id"]] = inc
            message(inc, "opened")
            counts["opened"] += 1
            continue
        days = [u for u in days if u.day >= inc["first_day"]]
        if not days:
            continue
        peak = max(days, key=lambda u: (u.level, u.day))
        grew = days[-1].day > inc["last_day"] or peak.level > inc["level"]
        if not grew:
            continue
        inc = {**inc, "last_day": max(inc["last_day"], days[-1].day), "updated_at": now, "load_id": snapshot_id}
        if peak.level > inc["level"]:
            inc.update(peak_day=peak.day, observed=peak.observed, expected=float(peak.expected), level=peak.level)
            message(inc, "escalated")
            counts["escalated"] += 1
        open_by_key[key] = changed[inc["incident_id"]] = inc
    quiet_since = last_checked - dt.timedelta(days=settings.alerts.resolve_after_days)
    for inc in list(open_by_key.values()):
        if inc["last_day"] <= quiet_since:  # resolve_after_days normal days since its last unusual one
            inc = {**inc, "status": "resolved", "resolved_at": now, "updated_at": now, "load_id": snapshot_id}
            changed[inc["incident_id"]] = inc
            counts["resolved"] += 1
    if changed:
        con.execute("delete from alert_incidents where list_contains($ids, incident_id)", {"ids": list(changed)})
        con.executemany(
            f"insert into alert_incidents ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
            [[inc[c] for c in cols] for inc in changed.values()],
        )
    if messages:
        con.executemany("insert into alert_messages values (?, ?, ?, ?, ?, ?, ?, ?, ?)", messages)
    counts["detect_ms"] = round((time.perf_counter() - started) * 1000)
    log.info("alerts: %s", counts)
    return counts
