"""Alert incidents, read side: the words for each metric, the dashboard link of an incident,
and the incidents of the published snapshot (`alert_incidents`, written by pipelines/alerts.py).
Shared by the dashboard's Alerts page, the time charts' markers, `pulse alerts list` and the
messages pipelines/notify.py sends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import duckdb
import polars as pl

from core.labels import N_, gettext, label
from core.lake import lake_tables
from core.settings import Settings
from core.sqlfiles import sql

METRICS = {  # code -> words; N_ marks them for the catalog, gettext translates on a page
    "reports": N_("Reports"),
    "removals": N_("Removals"),
    "reports_self_harm": N_("Reports of self-harm content"),
    "reports_suicide": N_("Reports of suicide content"),
    "removals_self_harm": N_("Removals of self-harm content"),
    "removals_suicide": N_("Removals of suicide content"),
    "helpline_taps": N_("Helpline card taps"),
    "helpline_contacts": N_("Helpline contacts"),
    "hub_visitors": N_("Hub visitors"),
    "campaign_views": N_("Campaign video views"),
}
PAGE_OF = {  # the dashboard page that charts the metric
    "reports": "safety",
    "removals": "safety",
    "reports_self_harm": "safety",
    "reports_suicide": "safety",
    "removals_self_harm": "safety",
    "removals_suicide": "safety",
    "helpline_taps": "referrals",
    "helpline_contacts": "referrals",
    "hub_visitors": "hub",
    "campaign_views": "overview",
}
PARTNER_METRICS = ("helpline_taps", "helpline_contacts")
ALL_PLACES = "all"


@dataclass(frozen=True)
class Incident:
    incident_id: str
    metric: str
    partner_id: str
    place: str
    direction: str  # rise | drop
    first_day: dt.date
    last_day: dt.date
    peak_day: dt.date
    observed: int
    expected: float
    level: int
    status: str

    @property
    def week_start(self) -> dt.date:
        """The Monday of the week the incident began in (a partner hears of it once that week is released)."""
        return self.first_day - dt.timedelta(days=self.first_day.weekday())


def metric_words(metric: str) -> str:
    return gettext(METRICS.get(metric, metric))


def place_words(place: str) -> str:
    return gettext("Cambodia") if place == ALL_PLACES else label("province", place)


def dashboard_link(settings: Settings, inc: Incident, audience: str = "policy") -> str:
    """The dashboard view that shows the incident, with its filters in the URL (dashboard/state.py
    SHARED parameters; the partner portal's `week`)."""
    if audience == "partner":
        return f"{settings.dashboard.url}/portal?" + urlencode({"week": inc.week_start.isoformat()})
    start = min(inc.first_day, inc.peak_day) - dt.timedelta(days=27)
    params = {"from": start.isoformat(), "to": max(inc.last_day, inc.peak_day).isoformat()}
    if inc.place != ALL_PLACES:
        params["province"] = inc.place
    return f"{settings.dashboard.url}/{PAGE_OF.get(inc.metric, 'overview')}?" + urlencode(params)


def has_alerts(con: duckdb.DuckDBPyConnection) -> bool:
    """A snapshot published before alerts existed has no incident table."""
    return "alert_incidents" in lake_tables(con)


def alert_incidents(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> pl.DataFrame:
    """One row per incident open, or changed since `since`: open ones first (alert_incidents.sql)."""
    if not has_alerts(con):
        return pl.DataFrame(schema={"incident_id": pl.String, "metric": pl.String, "status": pl.String})
    return con.sql(sql("pages/alert_incidents"), params={"since": since}).pl()


def incidents_of(df: pl.DataFrame) -> list[Incident]:
    fields = Incident.__dataclass_fields__
    return [Incident(**{k: v for k, v in row.items() if k in fields}) for row in df.iter_rows(named=True)]


def open_incident_days(df: pl.DataFrame, metrics: set[str], place: str | None) -> list[tuple[dt.date, str]]:
    """Markers for a time chart: the peak day of every open incident about one of `metrics`
    in `place` (a province, or the whole country when None), labelled with its metric."""
    if df.is_empty() or "status" not in df.columns:
        return []
    want = place or ALL_PLACES
    rows = df.filter((pl.col("status") == "open") & pl.col("metric").is_in(sorted(metrics)) & (pl.col("place") == want))
    return [
        (r["peak_day"], gettext("Alert: {metric}").format(metric=metric_words(r["metric"])))
        for r in rows.iter_rows(named=True)
    ]
