"""Validate: a chunk of landing rows checked against CONTRACT §2 in one SQL pass
(pipelines/sql/validate_<stream>.sql over landing_rows.sql): the rows typed, with `codes` (of
the reasons it breaks, core/reasons.py) empty for a valid row; and the contract's fields of a chunk, by name (CSV and Parquet columns,
JSON keys), case-insensitively."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import polars as pl

from core import reference as ref
from core.settings import Settings
from pipelines.read import UnreadableFile, first_filled, spelling_order


def validation_params(settings: Settings, stream: str, now: dt.datetime) -> dict[str, Any]:
    earliest = settings.validation.earliest
    common = {
        "now": now,
        "earliest": dt.datetime.combine(earliest, dt.time(), settings.tz),  # 00:00 in the campaign timezone
        "age_bands": list(ref.AGE_BANDS),
    }
    if stream == "engagement":
        return {
            **common,
            "event_types": list(ref.ENGAGEMENT_TYPES),
            "video_types": list(ref.VIDEO_EVENT_TYPES),
            "watch_types": list(ref.WATCH_TIME_TYPES),
            "surfaces": list(ref.SURFACES),
            "partners": list(settings.partner_ids),
            "tracked": sorted(settings.tracked_hashtags),
        }
    if stream == "referral":
        return {
            **common,
            "partners": list(settings.partner_ids),
            "stages": list(ref.REFERRAL_STAGES),
            "entry_points": list(ref.ENTRY_POINTS),
            "channels": list(ref.CHANNELS),
        }
    return {
        **common,
        "platform_actions": list(ref.PLATFORM_ACTIONS),
        "actions": list(ref.SAFETY_ACTIONS),
        "target_types": list(ref.TARGET_TYPES),
        "policies": list(ref.POLICIES),
        "detections": list(ref.DETECTIONS),
    }


def contract_fields(rows: pl.DataFrame, expected: tuple[str, ...]) -> tuple[pl.DataFrame, list[str]]:
    """Exactly the contract's columns (missing ones empty), and the names of the others."""
    unknown = sorted(c for c in rows.columns if c not in expected and c != "_line")
    return rows.select(
        "_line",
        pl.lit(None, dtype=pl.String).alias("_malformed"),
        *[pl.col(c) if c in rows.columns else pl.lit(None, dtype=pl.String).alias(c) for c in expected],
    ), unknown


def json_fields(
    con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, expected: tuple[str, ...]
) -> tuple[pl.DataFrame, list[str]]:
    """Pull the contract's fields out of JSON lines, matching keys case-insensitively, line by
    line: every spelling of a field seen in the chunk is extracted, and each line takes the
    first of them that is not blank (the lower-case spelling first, then the others sorted;
    as CSV and Parquet columns, pipelines.landing), so one `USER_ID` line among `user_id`
    lines is read like the others."""
    con.register("json_lines", rows)
    try:
        keys = [
            k
            for (k,) in con.sql(
                "select distinct unnest(json_keys(_json)) from json_lines "
                "where json_valid(_json) and json_type(_json) = 'OBJECT'"
            ).fetchall()
        ]
        if rows.height and not keys:
            raise UnreadableFile("not readable as JSON lines (no line is a JSON object)")
        spellings: dict[str, list[str]] = {}
        for k in keys:
            spellings.setdefault(k.strip().lower(), []).append(k)
        spellings = {name: spelling_order(name, found) for name, found in spellings.items()}
        wanted = [(c, k) for c in expected for k in spellings.get(c, [])]
        paths = ["$." + json.dumps(k) for _, k in wanted] or ["$." + json.dumps("\0none")]
        table = con.sql(
            """
            select _line,
                   case when not json_valid(_json) then 'row.not_json'
                        when json_type(_json) <> 'OBJECT' then 'row.not_object' end as _malformed,
                   case when json_valid(_json) and json_type(_json) = 'OBJECT'
                        then json_extract_string(_json, $paths) end as v
            from json_lines
            where _json is not null
            """,
            params={"paths": paths},
        ).to_arrow_table()
    finally:
        con.unregister("json_lines")
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    value = {i: pl.col("v").list.get(i, null_on_oob=True) for i in range(len(wanted))}
    out = df.select(
        pl.col("_line").cast(pl.Int64),
        "_malformed",
        *[
            first_filled([value[i] for i, (c2, _) in enumerate(wanted) if c2 == c] or [pl.lit(None, pl.String)]).alias(
                c
            )
            for c in expected
        ],
    )
    unknown = sorted(name for name in spellings if name not in expected)
    return out, unknown
