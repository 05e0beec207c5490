"""The peer a data team would build instead of Pulse's load, for `pulse bench --scale-out`.

    .venv/bin/python -m benchmarks.dlt_peer --landing DIR --out DIR

1. dlt (the `bench` dependency group, pinned in uv.lock; it runs on the product's DuckDB 1.5.5)
   loads every Parquet file under --landing into a new DuckDB file, OUT/peer.duckdb, table
   `landing.engagement`, with write_disposition="merge" and primary_key="event_id": the
   idiomatic fast path, dlt's own filesystem source and Parquet reader handing pyarrow record
   batches (100,000 rows each) to dlt, which normalises them to Parquet load files, loads them
   into a staging dataset and merges (delete-insert: one row per event_id, an arbitrary one of
   its copies, kept).
2. The same marts in SQL: every statement of pipelines/sql/marts/ (the product's own mart
   SQL, pipelines/marts.py's declarations in their build order), each run once as
   `create table <mart> as <select>` in peer.duckdb, as the product's first, full build does.
   The statements read the relations the product hands them (new_engagement_events,
   user_numbers, ...): here a staging table of the dlt table's rows typed once, in memory (a
   temp table: the ISO-8601 times with try_cast, the hashtags' JSON as a list, lower case
   without '#', and the campaign flag from them; typing in a view instead made every mart
   parse the JSON again: 1.5 times the marts' time at 1M rows), and empty views for the
   referral and safety streams, which the benchmark's landing zone does not hold. user_numbers
   (the dense numbers of the people marts' bitmaps) is built from the raw user ids by the
   product's pipelines/sql/number_users.sql. The campaign day is computed by the same
   fixed-offset shortcut as the product's (pipelines/marts.py fixed_utc_offset_us).

What the peer does NOT do, and Pulse does (so the comparison favours the peer):
- no quarantine: no rule of CONTRACT §2 is checked; a bad row (unknown event type, an event in
  the future, a negative watch time, a province that is none) is loaded and counted in the
  marts like any other, and nobody is told. The one exception is forced on it: a row without
  an event_id cannot be merged on that key (dlt stops the load: "Column 'event_id' is declared
  non-nullable but contains nulls"), so the peer drops those rows silently before dlt sees them.
- no normalisation: provinces, age bands and languages are grouped as the landing spells them
  ("phnom penh", "Phnom Penh" and KH-12 are three segments), event types and surfaces as sent.
- no keyed user ids: the raw user ids are stored and numbered as they come (Pulse stores only
  an HMAC-SHA-256 of each, CONTRACT §3).
- no exactly-once by file content: dlt's filesystem source lists every file again on every run
  (an incremental load would need its own modification-date cursor, which a renamed or
  re-uploaded copy defeats); the merge on event_id is its only guard against double counting.
- no lake snapshot, no ledger of files, no check before publishing, no partner releases: one
  DuckDB file, locked by the process that writes it (no reader while the load runs) and with
  no earlier state to go back to.
Prints one JSON object: the rows merged, each mart's row count, and the seconds of each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

DATASET = "landing"
TABLE = "engagement"
BATCH_ROWS = 100_000

# The relations the product's mart SQL reads (pipelines/marts.py defines them from the lake),
# here from dlt's table: the same columns, typed from the landing's text, nothing checked.
STAGING = f"""
create or replace temp table engagement_events as
select
    event_id,
    try_cast(event_time as timestamptz) as event_at,
    user_id as user_key,
    province,
    age_band,
    language,
    event_type,
    video_id,
    creator_id,
    tags as hashtags,
    surface,
    watch_time_ms,
    partner_id,
    coalesce(list_has_any(tags, (select tags from tracked_hashtags)), false) as is_campaign
from (
    select *, list_transform(hashtags::varchar[], h -> lower(ltrim(h, '#'))) as tags
    from {DATASET}.{TABLE}
)
"""
EMPTY_STREAMS = """
create or replace temp view referral_events as
select null::varchar as event_id, null::timestamptz as event_at, null::varchar as user_key,
       null::varchar as province, null::varchar as age_band, null::varchar as language,
       null::varchar as partner_id, null::varchar as stage, null::varchar as entry_point,
       null::varchar as channel
where false;
create or replace temp view safety_events as
select null::varchar as event_id, null::timestamptz as event_at, null::varchar as user_key,
       null::varchar as province, null::varchar as age_band, null::varchar as language,
       null::varchar as action, null::varchar as target_type, null::varchar as policy,
       null::varchar as detection, null::bigint as views_at_action
where false;
create or replace temp view new_engagement_events as select * from engagement_events;
create or replace temp view new_referral_events as select * from referral_events;
create or replace temp view new_safety_events as select * from safety_events;
"""


def _without_event_id_dropped(batch: Any) -> Any:
    """A primary key cannot be null: dlt refuses such a batch, so the rows go (silently)."""
    import pyarrow.compute as pc

    return batch.filter(pc.is_valid(batch["event_id"]))


def dlt_load(landing: Path, out: Path) -> dict[str, Any]:
    """Every Parquet file under landing, merged on event_id into OUT/peer.duckdb."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # dlt reports usage to dltHub by default: no network here
    started = time.perf_counter()
    import dlt
    from dlt.sources.filesystem import filesystem, read_parquet

    imported = time.perf_counter() - started

    files = filesystem(bucket_url=landing.resolve().as_uri(), file_glob="**/*.parquet")
    events = (files | read_parquet(use_pyarrow=True, chunksize=BATCH_ROWS)).with_name(TABLE)
    events.add_map(_without_event_id_dropped)
    events.apply_hints(write_disposition="merge", primary_key="event_id")
    pipeline = dlt.pipeline(
        pipeline_name="pulse_peer",
        destination=dlt.destinations.duckdb(str(out / "peer.duckdb")),
        dataset_name=DATASET,
        pipelines_dir=str(out / "dlt-pipelines"),  # its state beside its data, not under ~/.dlt
    )
    info = pipeline.run(events)
    steps = {
        f"dlt_{t.step}_s": round((t.finished_at - t.started_at).total_seconds(), 3) for t in pipeline.last_trace.steps
    }
    return {
        "load_ids": list(info.loads_ids),
        "has_failed_jobs": info.has_failed_jobs,
        "timings": {"dlt_import_s": round(imported, 3), **steps},
    }


def build_marts(db: Path) -> dict[str, Any]:
    """The product's marts, each built whole by its own SQL over the dlt table: their row counts
    and the seconds of each step."""
    import duckdb

    from core.settings import Settings
    from core.sqlfiles import sql
    from pipelines.marts import BUILD_ORDER, PEOPLE_MART, fixed_utc_offset_us

    settings = Settings()
    tracked = sorted(settings.tracked_hashtags)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()

    con = duckdb.connect(str(db))
    # a view takes no bound parameter: the tracked hashtags in a one-row temp table
    con.execute(
        "create or replace temp table tracked_hashtags as select $tracked::varchar[] as tags", {"tracked": tracked}
    )
    con.execute(STAGING)
    con.execute(EMPTY_STREAMS)
    con.execute(sql("mart_macros", "pipelines"))
    lap("staging_s")
    con.execute("create or replace table user_numbers (user_key varchar, user_number bigint)")
    con.execute(sql("number_users", "pipelines"))
    lap("user_numbers_s")
    con.execute("create or replace temp table load_people as select null::bigint as user_number where false")
    never = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    params = {
        "tz": settings.timezone,
        "utc_offset_us": fixed_utc_offset_us(con, settings, None),  # the same shortcut the product takes
        "tracked": tracked,
        "full": True,
        "days": [],
        "from_utc": never,
        "to_utc": never,
    }
    rows: dict[str, int] = {}
    for mart in BUILD_ORDER:
        select = mart.select
        used = {k: v for k, v in params.items() if f"${k}" in select}
        con.execute(f"create or replace table {mart.name} as {select}", used)
        if mart.name == PEOPLE_MART:  # what the marts of people read on a full build
            con.execute(f"create or replace temp table people_before as select * from {PEOPLE_MART} where false")
            con.execute(f"create or replace temp view new_{PEOPLE_MART} as select * from {PEOPLE_MART}")
        lap(f"{mart.name}_s")
        rows[mart.name] = con.sql(f"select count(*) from {mart.name}").fetchall()[0][0]
        started = time.perf_counter()  # the count is no part of the build
    con.close()
    return {"marts": rows, "timings": timings}


def run(landing: Path, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load = dlt_load(landing, out)
    loaded = time.perf_counter()
    built = build_marts(out / "peer.duckdb")
    done = time.perf_counter()
    import duckdb

    con = duckdb.connect(str(out / "peer.duckdb"), read_only=True)
    merged = con.sql(f"select count(*) from {DATASET}.{TABLE}").fetchall()[0][0]
    con.close()
    return {
        "merged": merged,
        "marts": built["marts"],
        "load_ids": load["load_ids"],
        "has_failed_jobs": load["has_failed_jobs"],
        "timings": {
            "dlt_s": round(loaded - started, 3),  # importing dlt included
            "marts_s": round(done - loaded, 3),  # staging and user numbers included
            **load["timings"],
            **built["timings"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dlt_peer", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--landing", type=Path, required=True, help="folder of Parquet landing files (searched recursively)"
    )
    parser.add_argument("--out", type=Path, required=True, help="new folder for peer.duckdb and dlt's pipeline state")
    args = parser.parse_args(argv)
    if not args.landing.is_dir():
        parser.error(f"--landing {args.landing}: not a folder")
    print(json.dumps(run(args.landing, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
