"""The marts the pages read, declared as data and built in one open lake transaction.

Each mart is one SELECT in pipelines/sql/marts/<name>.sql (its grain stated in its header) and
one `Mart` below: its grain (the columns that make a row unique), what it reads (depends_on:
event tables, user_numbers or other marts) and how a load folds in (`Fold`). `build_marts`
builds every mart whole on the first load (and when the timezone or the tracked hashtags
changed); otherwise it folds in the load, mart by mart, in dependency order (BUILD_ORDER, a
topological sort of depends_on; a cycle or an unknown name stops the import), then builds whole
a mart the lake lacks (declared since the last load), even when a refresh brought no file.

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
        merge(),  # a set: the rows of the load not there yet
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
        EVENT_TABLES,
        merge(
            add=("count_views", "count_campaign_posts", "count_hub_visits", "count_helpline_clicks", "count_reports")
        ),
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


def define_new_events(con: duckdb.DuckDBPyConnection, load: tuple[str, set[str]] | None) -> None:
    """new_<stream>_events: the whole event tables (load None: a full build) or this load's rows
    (load: its id and the streams it brought rows for; a temp table: views take no bound
    parameters). The other streams' tables are not scanned: a scan of a lake table costs tens
    of milliseconds of catalog reads even when it finds nothing."""
    for table in EVENT_TABLES:
        _drop_temp(con, f"new_{table}")
        if load is None:
            con.execute(f"create temp view new_{table} as select * from {table}")
        elif table.removesuffix("_events") in load[1]:
            con.execute(
                f"create temp table new_{table} as select * from {table} where load_id = $load_id",
                {"load_id": load[0]},
            )
        else:
            con.execute(f"create temp table new_{table} as select * from {table} where false")


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


PEOPLE_NOW = f"new_{PEOPLE_MART}"


def define_people_now(con: duckdb.DuckDBPyConnection, delta: str | None) -> None:
    """new_mart_engagement_people_daily: the people mart's rows of load_people as they are after
    this load folds in, from people_before and the load's own rows (`delta`, a temp table of the
    people mart's statement over them), so the marts of people never scan the people mart for
    them again; the whole mart on a full build (delta None)."""
    _drop_temp(con, PEOPLE_NOW)
    if delta is None:
        con.execute(f"create temp view {PEOPLE_NOW} as select * from {PEOPLE_MART}")
        return
    people = next(m for m in MARTS if m.name == PEOPLE_MART)
    grain = ", ".join(people.grain)
    flags = ", ".join(f"bool_or({c}) as {c}" for c in people.fold.or_)
    con.execute(
        f"create temp table {PEOPLE_NOW} as select {grain}, {flags} "
        f"from (select * from people_before union all by name select * from {delta}) group by all"
    )


def define_full_build_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """The relations a full build hands to the mart SQL, with no load: for a test that runs a
    mart's statement itself against a published lake (its marts exist)."""
    define_new_events(con, None)
    con.execute(sql("mart_macros", "pipelines"))
    define_load_people(con, None)
    define_people_before(con, None)
    define_people_now(con, None)


# --- the build -----------------------------------------------------------------------------


def build_marts(con: duckdb.DuckDBPyConnection, settings: Settings, load_id: str, streams: set[str]) -> str:
    """Build every mart whole, or fold this load (its rows carry `load_id`; `streams`: those it
    brought rows for) into each, in dependency order; 'full' or 'incremental'. A mart the lake lacks (declared by a newer
    version of the product), and every mart that reads it, is built whole after the others
    folded the load in, so a load with no rows at all (`marts_behind`) builds it too."""
    tracked = sorted(settings.tracked_hashtags)
    state = con.sql("select timezone, tracked_hashtags from mart_state").fetchall()
    full = state != [(settings.timezone, tracked)]
    if state and state[0][1] != tracked:  # the campaign's hashtags changed: re-mark every event
        con.execute(
            "update engagement_events set is_campaign = coalesce(list_has_any(hashtags, $tracked), false)",
            {"tracked": tracked},
        )
    con.execute(sql("mart_macros", "pipelines"))
    if full:
        _build_whole(con, settings, tracked, {m.name for m in MARTS})
    else:
        missing = _missing(lake_tables(con))
        _fold_load(con, settings, tracked, (load_id, streams), {m.name for m in MARTS} - missing)
        if missing:
            _build_whole(con, settings, tracked, missing)
    if full:
        con.execute("delete from mart_state")
        con.execute("insert into mart_state values ($tz, $tracked)", {"tz": settings.timezone, "tracked": tracked})
    return "full" if full else "incremental"


def marts_behind(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether the marts of a lake that holds loads are not those the settings and the
    declarations ask for (another timezone or hashtags, or a mart the lake lacks, as after an
    upgrade or a migration): a refresh with no new file then builds them. A lake with no load
    yet is not behind: its first load builds every mart."""
    if not con.sql("select exists (from file_ledger)").fetchall()[0][0]:
        return False
    state = con.sql("select timezone, tracked_hashtags from mart_state").fetchall()
    return state != [(settings.timezone, sorted(settings.tracked_hashtags))] or bool(_missing(lake_tables(con)))


def _missing(existing: set[str]) -> set[str]:
    """The declared marts not in `existing`, and every mart that reads one of them."""
    missing = {m.name for m in MARTS} - existing
    for mart in BUILD_ORDER:  # a mart comes after those it reads
        if missing & set(mart.depends_on):
            missing.add(mart.name)
    return missing


def _build_whole(con: duckdb.DuckDBPyConnection, settings: Settings, tracked: list[str], names: set[str]) -> None:
    """Build the marts `names` whole, from every event (new_<stream>_events: the whole event
    tables; every person numbered), in dependency order."""
    define_new_events(con, None)
    con.execute(sql("number_users", "pipelines"))  # the people of new_engagement_events
    define_load_people(con, None)
    if PEOPLE_MART not in names:  # it exists: the marts of people read it whole
        define_people_before(con, None)
        define_people_now(con, None)
    params = _params(settings, tracked, True, [], fixed_utc_offset_us(con, settings, None))
    for mart in BUILD_ORDER:
        if mart.name not in names:
            continue
        select = mart.select
        con.execute(f"create or replace table {mart.name} as {select}", _used(params, select))
        if mart.name == PEOPLE_MART:
            define_people_before(con, None)
            define_people_now(con, None)


def _fold_load(
    con: duckdb.DuckDBPyConnection, settings: Settings, tracked: list[str], load: tuple[str, set[str]], names: set[str]
) -> None:
    """Fold this load (new_<stream>_events: its rows) into the marts `names`, in dependency
    order; without the people mart, none of the marts of people is among them (`_missing`)."""
    define_new_events(con, load)
    con.execute(sql("number_users", "pipelines"))  # the people of new_engagement_events
    define_load_people(con, load[0])
    days = _days_brought(con, settings)
    brought = sorted(set().union(*days.values()))
    offset = fixed_utc_offset_us(con, settings, (brought[0], brought[-1]) if brought else None)
    if PEOPLE_MART in names:  # before the people mart folds this load in
        define_people_before(con, load[0])
    for mart in BUILD_ORDER:
        # A mart changes only on the days its own streams brought rows for (none: it is
        # left as it is; an engagement-only load leaves the referral and safety marts alone).
        mart_days = sorted(set().union(*(days[t] for t in source_tables(mart))))
        if mart.name not in names or not mart_days:
            continue
        select = mart.select
        params = _used(_params(settings, tracked, False, mart_days, offset), select)
        if mart.name == PEOPLE_MART:  # its rows of the load's people feed the marts of people
            con.execute(f"create or replace temp table people_delta as {select}", params)
            _fold(con, mart, "from people_delta", {}, mart_days)
            define_people_now(con, "people_delta")
        else:
            _fold(con, mart, select, params, mart_days)


def source_tables(mart: Mart) -> set[str]:
    """The event tables a mart reads, itself or through the marts it reads."""
    by_name = {m.name: m for m in MARTS}
    out: set[str] = set()
    for dep in mart.depends_on:
        if dep in by_name:
            out |= source_tables(by_name[dep])
        elif dep in EVENT_TABLES:
            out.add(dep)
    return out


def _days_brought(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, set[dt.date]]:
    """Per event table, the campaign-timezone days of this load's rows."""
    return {
        t: {d for (d,) in con.execute(
            f"select distinct timezone($tz, event_at)::date from new_{t}", {"tz": settings.timezone}
        ).fetchall()}
        for t in EVENT_TABLES
    }  # fmt: skip


def fixed_utc_offset_us(
    con: duckdb.DuckDBPyConnection, settings: Settings, days: tuple[dt.date, dt.date] | None
) -> int | None:
    """The campaign timezone's UTC offset in microseconds if it is the same at every quarter
    hour over the rows a build reads (every event on a full build, days None; the days from
    first to last of an incremental one), for the marts' campaign_day (pipelines/sql/mart_macros.sql);
    None when it changes there (daylight saving time) or there is nothing to read. Offsets and
    their changes fall on quarter hours in every zone."""
    if days is None:
        bounds = " union all ".join(f"select min(event_at) as lo, max(event_at) as hi from {t}" for t in EVENT_TABLES)
        (lo, hi) = con.sql(f"select min(lo), max(hi) from ({bounds})").fetchall()[0]
    else:
        lo = dt.datetime.combine(days[0], dt.time(), settings.tz) - dt.timedelta(days=1)
        hi = dt.datetime.combine(days[1], dt.time(), settings.tz) + dt.timedelta(days=2)
    if lo is None:
        return None
    offsets = con.execute(
        "select distinct epoch_us(timezone($tz, t)) - epoch_us(t) "
        "from generate_series(date_trunc('hour', $lo::timestamptz), $hi::timestamptz + interval 1 hour, "
        "interval 15 minute) as g(t)",
        {"tz": settings.timezone, "lo": lo, "hi": hi},
    ).fetchall()
    return offsets[0][0] if len(offsets) == 1 else None


def _params(
    settings: Settings, tracked: list[str], full: bool, days: list[dt.date], utc_offset_us: int | None
) -> dict[str, Any]:
    tz = settings.tz
    first, last = (days[0], days[-1]) if days else (dt.date(1970, 1, 1), dt.date(1970, 1, 1))
    return {
        "tz": settings.timezone,
        "utc_offset_us": utc_offset_us,
        "tracked": tracked,
        "full": full,
        "days": days,
        # the touched days as a UTC range, so unchanged row groups are skipped by their zone maps
        "from_utc": dt.datetime.combine(first, dt.time(), tz),
        "to_utc": dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz),
    }


def _used(params: dict[str, Any], select: str) -> dict[str, Any]:
    """The parameters a statement names (DuckDB refuses one it does not)."""
    return {k: v for k, v in params.items() if f"${k}" in select}


def _fold(con: duckdb.DuckDBPyConnection, mart: Mart, select: str, params: dict[str, Any], days: list) -> None:
    """Fold the load into the mart. The statements that look for the mart's rows name the range of
    days they can be on, so the mart's row groups of other days (it is ordered by day) are
    skipped: a load of today's events reads today's rows, not the campaign's."""
    kind = mart.fold.kind
    span = {"first_day": days[0], "last_day": days[-1]}
    if kind == "merge":  # its rows come from the load's own events: on the days they brought
        con.execute(_merge_statement(mart, select), {**params, **span})
    elif kind == "difference_people":  # its rows are on any day of the load's people
        # DuckLake's MERGE takes one UPDATE or DELETE action: add, then drop the rows at 0
        con.execute(f"create or replace temp table mart_delta as {select}", params)
        first, last = con.sql("select min(day), max(day) from mart_delta").fetchall()[0]
        if first is not None:
            span = {"first_day": first, "last_day": last}
            con.execute(_merge_statement(mart, "from mart_delta"), span)
            zero = " or ".join(f"{c} = 0" for c in mart.fold.add)
            con.execute(f"delete from {mart.name} where day between $first_day and $last_day and ({zero})", span)
        con.execute("drop table mart_delta")
    elif kind == "rebuild_people":
        con.execute(f"delete from {mart.name} where user_number in (select user_number from load_people)")
        con.execute(f"insert into {mart.name} by name {select}", params)
    else:  # rebuild_days
        con.execute(
            f"delete from {mart.name} where day between $first_day and $last_day and list_contains($days, day)",
            {"days": days, **span},
        )
        con.execute(f"insert into {mart.name} by name {select}", params)


def _merge_statement(mart: Mart, select: str) -> str:
    """One MERGE of the rows `select` gives into the mart: `add` columns add up, `or` columns
    or together on the rows of the same grain; the others are inserted. A mart by day matches
    only its rows from $first_day to $last_day (those of the rows merged)."""
    same_key = " and ".join(f"m.{k} is not distinct from d.{k}" for k in mart.grain)
    if "day" in mart.grain:
        same_key += " and m.day between $first_day and $last_day"
    sets = ", ".join(
        f"{c} = coalesce(m.{c} + d.{c}, m.{c}, d.{c})" if how == "add" else f"{c} = m.{c} or d.{c}"
        for c, how in mart.fold.combine.items()
    )
    matched = f"when matched then update set {sets} " if sets else ""  # nothing to combine: a set
    return f"merge into {mart.name} as m using ({select}) as d on ({same_key}) {matched}when not matched then insert by name"
