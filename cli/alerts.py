"""`pulse alerts test | list`: the alert channels and the open incidents."""

from __future__ import annotations

import datetime as dt
import json

import click

from cli.options import common_options, data_dir, settings
from core.errors import PulseError


@click.group("alerts", epilog="Example: pulse alerts list --json")
def alerts_group() -> None:
    """Alerts: unusual counts found at each refresh, sent to the routes of [[alerts.routes]]."""


@alerts_group.command("test", epilog="Example: pulse alerts test")
@common_options
def alerts_test_cmd() -> None:
    """Send one test message to every route of the config; exit 1 if any did not take it."""
    from pipelines.notify import test_routes

    s = settings()
    if not s.alerts.routes:
        raise PulseError(f"{s.source}: no [[alerts.routes]] to test; add one with url and audience")
    results = test_routes(s)
    for name, ok in results:
        click.echo(f"{name}: {'delivered' if ok else 'NOT delivered'}")
    failed = [name for name, ok in results if not ok]
    if failed:
        raise PulseError(f"{len(failed)} of {len(results)} routes did not take the test message: {', '.join(failed)}")


@alerts_group.command("list", epilog="Example: pulse alerts list --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as one JSON array.")
@click.option("--all", "show_all", is_flag=True, help="Also incidents resolved in the last 7 days.")
def alerts_list_cmd(as_json: bool, show_all: bool) -> None:
    """Print the open alert incidents of the published snapshot, with their dashboard links."""
    from queries import alerts as qa
    from queries.warehouse import published

    s = settings()
    d = data_dir(create=False)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=7 if show_all else 36500)
    with published(d) as con:
        df = qa.alert_incidents(con, since)
    incidents = [i for i in qa.incidents_of(df) if show_all or i.status == "open"]
    rows = [
        {
            "incident_id": i.incident_id,
            "status": i.status,
            "metric": i.metric,
            "partner_id": i.partner_id or None,
            "place": i.place,
            "direction": i.direction,
            "first_day": i.first_day.isoformat(),
            "last_day": i.last_day.isoformat(),
            "peak_day": i.peak_day.isoformat(),
            "observed": i.observed,
            "expected": round(i.expected, 1),
            "level": i.level,
            "link": qa.dashboard_link(s, i),
        }
        for i in incidents
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("No open alert incidents.")
    for r in rows:
        partner = f" {r['partner_id']}" if r["partner_id"] else ""
        click.echo(
            f"{r['status']:8} {r['metric']}{partner} {r['direction']} in {r['place']} on {r['peak_day']}: "
            f"{r['observed']} against {r['expected']} expected  {r['link']}"
        )
