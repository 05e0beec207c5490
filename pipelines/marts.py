"""The marts the pages read, declared as data and built in one open lake transaction.

Each mart is one SELECT in pipelines/sql/marts/<name>.sql (its grain stated in its header) and
one `Mart` below: its grain (the columns that make a row unique), what it reads (depends_on:
event tables, user_numbers or other marts) and how a load folds in (`Fold`). `build_marts`
builds every mart whole on the first load (and when the timezone or the tracked hashtags
changed, or a mart is missing); otherwise it folds in the load, mart by mart, in dependency
order (BUILD_ORDER, a topological sort of depends_on; a cycle or an unknown name stops the
import).

The load's own rows reach the mart SQL as relations, never by rewriting its text: the marts
that add up read `new_engagement_events`, `new_referral_events` and `new_safety_events`, which
the builder defines as the whole event tables on a full build (temp views) and as this load's
rows on an incremental one (temp tables). DuckLake's change feed (`table_insertions`) cannot
serve here: the load is not committed yet, so its snapshot does not exist inside the open
transaction ("No snapshot found at version N+1"); `load_id = $load_id` picks the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from core import reference as ref
from core.errors import PulseError
from core.lake import lake_tables
from core.settings import Settings
from core.sqlfiles import sql

PEOPLE_MART = "mart_engagement_people_daily"  # the marts of distinct people read it
EVENT_TABLES = tuple(f"{s}_events" for s in ref.STREAMS)
SOURCES = frozenset({*EVENT_TABLES, "user_numbers"})  # what a mart may read besides other marts


class MartDeclarationError(PulseError):
    """The mart declarations do not form a buildable graph (a cycle, an unknown name)."""


@dataclass(frozen=True)
class Fold:
    """How an incremental load folds into a mart.

    merge: the mart's statement over the load's own rows (new_<stream>_events), combined with
        the rows of the same grain: `add` columns add up, `or` columns or together.
    rebuild_days: a distinct count does not add up; the days the load touched are rebuilt.
    rebuild_people: a person's rows depend on all their days and nobody else's; the rows of the
        people the load brought (load_people) are rebuilt.
    difference_people: the same, folded as a difference: those people's rows from the people
        mart now (+1) and as they were before this load (people_before, -1), added to the
        `add` columns; rows that reach 0 are deleted.
    """

    kind: str
    add: tuple[str, ...] = ()
    or_: tuple[str, ...] = ()

    @property
    def combine(self) -> dict[str, str]:
        return {**dict.fromkeys(self.add, "add"), **dict.fromkeys(self.or_, "or")}


def merge(add: tuple[str, ...] = (), or_: tuple[str, ...] = ()) -> Fold:
    return Fold("merge", add, or_)


REBUILD_DAYS = Fold("rebuild_days")
REBUILD_PEOPLE = Fold("rebuild_people")
DIFFERENCE_PEOPLE = Fold("difference_people", add=("count_people",))
FOLD_KINDS = {"merge", "rebuild_days", "rebuild_people", "difference_people"}


@dataclass(frozen=True)
class Mart:
    name: str
    grain: tuple[str, ...]
    depends_on: tuple[str, ...]
    fold: Fold = field(default=REBUILD_DAYS)

    @property
    def select(self) -> str:
        return sql(f"marts/{self.name}", "pipelines")


SEGMENT = ("day", "province", "age_band", "language")
MARTS: tuple[Mart, ...] = (
    Mart(
        "mart_engagement_daily",
        (*SEGMENT, "event_type", "surface", "partner_id", "is_campaign"),
        ("engagement_events",),
        merge(add=("count_events", "sum_watch_time_ms")),
    ),
    Mart(
        "mart_referral_daily",
        (*SEGMENT, "partner_id", "entry_point", "channel", "stage"),
        ("referral_events",),
        REBUILD_DAYS,  # count_users is a distinct count
    ),
    Mart(
        "mart_safety_daily",
        (*SEGMENT, "action", "target_type", "policy", "detection"),
        ("safety_events",),
        merge(add=("count_events", "count_zero_view", "count_known_views")),
    ),
    Mart(
        "mart_activity_hourly",
        ("stream", "day", "hour"),
        EVENT_TABLES,
        merge(add=("count_events",)),
    ),
    Mart(
        "mart_campaign_creators",
        (*SEGMENT, "creator_id"),
        ("engagement_events",),
        REBUILD_DAYS,  # distinct creators
    ),
    Mart(
        PEOPLE_MART,
        (*SEGMENT, "user_number"),
        ("engagement_events", "user_numbers"),
        merge(or_=("has_campaign_view", "has_campaign_engagement", "has_hub_visit")),
    ),
    Mart(
        "mart_people_returns",
        ("measure", "day", "prev_day", "province", "age_band", "language"),
        (PEOPLE_MART,),
        DIFFERENCE_PEOPLE,
    ),
    Mart("mart_people_movers", ("user_number",), (PEOPLE_MART,), REBUILD_PEOPLE),
    Mart(
        "mart_hub_daily",
        (*SEGMENT, "event_type", "partner_id"),
        ("engagement_events",),
        merge(add=("count_events", "sum_watch_time_ms")),
    ),
    Mart(
        "mart_totals_daily",
        SEGMENT,
        ("mart_engagement_daily", "mart_referral_daily", "mart_safety_daily"),
        REBUILD_DAYS,
    ),
)


def build_order(marts: tuple[Mart, ...] | list[Mart]) -> list[Mart]:
    """The marts in an order where each comes after every mart it reads (declaration order
    among those that are ready); MartDeclarationError on a cycle or an unknown name."""
    by_name = {m.name: m for m in marts}
    if len(by_name) != len(marts):
        raise MartDeclarationError("a mart is declared twice")
    for m in marts:
        if m.fold.kind not in FOLD_KINDS:
            raise MartDeclarationError(f"{m.name}: unknown fold {m.fold.kind!r}")
        unknown = [dep for dep in m.depends_on if dep not in by_name and dep not in SOURCES]
        if unknown:
            raise MartDeclarationError(f"{m.name} depends on {', '.join(unknown)}: neither a mart nor a source table")
    order: list[Mart] = []
    done: set[str] = set()
    pending = list(marts)
    while pending:
        ready = [m for m in pending if all(dep in done or dep in SOURCES for dep in m.depends_on)]
        if not ready:
            raise MartDeclarationError(f"the marts {', '.join(m.name for m in pending)} depend on each other (a cycle)")
        order.append(ready[0])
        done.add(ready[0].name)
        pending.remove(ready[0])
    return order


BUILD_ORDER = build_order(MARTS)


# --- the relations a build hands to the mart SQL -------------------------------------------


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp table or view `name` if there is one (not through information_schema: that
    would list the lake's catalog too, ~80 ms a call)."""
    for kind in ("view", "table"):
        try:
            con.execute(f"drop {kind} if exists temp.main.{name}")
        except duckdb.CatalogException:  # the name is held by the other kind
            continue


def define_new_events(con: duckdb.DuckDBPyConnection, load_id: str | None) -> None:
    """new_<stream>_events: the whole event tables (load_id None: a full build) or this load's
    rows (a temp table: views take no bound parameters)."""
    for table in EVENT_TABLES:
        _drop_temp(con, f"new_{table}")
        if load_id is None:
            con.execute(f"create temp view new_{table} as select * from {table}")
        else:
            con.execute(
                f"create temp table new_{table} as select * from {table} where load_id = $load_id",
                {"load_id": load_id},
            )


def define_load_people(con: duckdb.DuckDBPyConnection, load_id: str | None) -> None:
    """load_people: the people this load brought (none on a full build), once they are numbered."""
    con.execute(
        "create or replace temp table load_people as select distinct u.user_number "
        "from new_engagement_events as e join user_numbers as u using (user_key) where $incremental",
        {"incremental": load_id is not None},
    )


def define_people_before(con: duckdb.DuckDBPyConnection, load_id: str | None) -> None:
    """people_before: the people mart's rows of load_people as they are before this load folds
    in (none on a full build)."""
    con.execute(
        f"create or replace temp table people_before as select * from {PEOPLE_MART} "
        "where $incremental and user_number in (select user_number from load_people)",
        {"incremental": load_id is not None},
    )


def define_full_build_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """The relations a full build hands to the mart SQL, with no load: for a test that runs a
    mart's statement itself against a published lake (its marts exist)."""
    define_new_events(con, None)
    define_load_people(con, None)
    define_people_before(con, None)


# --- the build -----------------------------------------------------------------------------


def build_marts(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: str) -> str:
    """Build every mart whole, or fold this load (its rows carry `load_id`) into each, in
    dependency order; 'full' or 'incremental'."""
    tracked = sorted(settings.tracked_hashtags)
    state = con.sql("select timezone, tracked_hashtags from mart_state").fetchall()
    existing = lake_tables(con)
    # a mart added since the last load (a newer version of the product) needs every day too
    full = state != [(settings.timezone, tracked)] or not {m.name for m in MARTS} <= existing
    if state and state[0][1] != tracked:  # the campaign's hashtags changed: re-mark every event
        con.execute(
            "update engagement_events set is_campaign = coalesce(list_has_any(hashtags, $tracked), false)",
            {"tracked": tracked},
        )
    define_new_events(con, None if full else load_id)
    con.execute(sql("number_users", "pipelines"))
    define_load_people(con, None if full else load_id)
    days = (
        []
        if full
        else [
            d
            for (d,) in con.sql(
                " union ".join(f"select distinct timezone($tz, event_at)::date from new_{t}" for t in EVENT_TABLES),
                params={"tz": settings.timezone},
            ).fetchall()
        ]
    )
    tz = settings.tz
    first, last = (min(days), max(days)) if days else (dt.date(1970, 1, 1), dt.date(1970, 1, 1))
    params = {
        "tz": settings.timezone,
        "tracked": tracked,
        "full": full,
        "days": days,
        # the touched days as a UTC range, so unchanged row groups are skipped by their zone maps
        "from_utc": dt.datetime.combine(first, dt.time(), tz),
        "to_utc": dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz),
    }
    if not full:  # before the people mart folds this load in
        define_people_before(con, load_id)
    for mart in BUILD_ORDER:
        select = mart.select
        used = {k: v for k, v in params.items() if f"${k}" in select}
        if full:
            con.execute(f"create or replace table {mart.name} as {select}", used)
        else:
            _fold(con, mart, select, used, days)
        if mart.name == PEOPLE_MART and full:
            define_people_before(con, None)
    con.execute("delete from mart_state")
    con.execute("insert into mart_state values ($tz, $tracked)", {"tz": settings.timezone, "tracked": tracked})
    return "full" if full else "incremental"


def _fold(con: duckdb.DuckDBPyConnection, mart: Mart, select: str, params: dict[str, Any], days: list) -> None:
    kind = mart.fold.kind
    if kind in ("merge", "difference_people"):
        con.execute(f"create or replace temp table mart_delta as {select}", params)
        _fold_delta(con, mart)
        if kind == "difference_people":
            con.execute(f"delete from {mart.name} where {' or '.join(f'{c} = 0' for c in mart.fold.add)}")
    elif kind == "rebuild_people":
        con.execute(f"delete from {mart.name} where user_number in (select user_number from load_people)")
        con.execute(f"insert into {mart.name} by name {select}", params)
    else:  # rebuild_days
        con.execute(f"delete from {mart.name} where list_contains($days, day)", {"days": days})
        con.execute(f"insert into {mart.name} by name {select}", params)


def _fold_delta(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    """Fold the rows of temp table mart_delta into the mart: add to or or into the rows of the
    same grain, insert the others."""
    combine = mart.fold.combine
    same_key = " and ".join(f"m.{k} is not distinct from d.{k}" for k in mart.grain)
    sets = ", ".join(
        f"{c} = coalesce(m.{c} + d.{c}, m.{c}, d.{c})" if how == "add" else f"{c} = m.{c} or d.{c}"
        for c, how in combine.items()
    )
    con.execute(f"update {mart.name} as m set {sets} from mart_delta as d where {same_key}")
    con.execute(
        f"insert into {mart.name} by name select * from mart_delta as d "
        f"where not exists (select 1 from {mart.name} as m where {same_key})"
    )
    con.execute("drop table mart_delta")
