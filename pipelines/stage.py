"""Stage: every candidate file read (pipelines/read.py), validated (pipelines/validate.py) and
loaded into one open lake transaction with its quarantine, the counts, the file ledger, the
marts (pipelines/marts.py), partner releases, alert incidents and the run record. Nothing is
visible until pipelines/publish.py commits it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import polars as pl

from core import reasons
from core import reference as ref
from core.datadir import DataDir
from core.lake import connect_lake
from core.settings import Settings
from core.sqlfiles import sql
from pipelines.alerts import record_alert_incidents
from pipelines.discover import LandingFile, Plan
from pipelines.lake_write import fault_point, prepare
from pipelines.marts import build_marts, marts_behind
from pipelines.read import (
    COLUMNS,
    UnreadableFile,
    UnusableContent,
    content_sha256,
    iter_rows,
    unchanged_since_discovery,
)
from pipelines.releases import release_closed_weeks
from pipelines.secrets import event_id_salt, fingerprint, hmac_key
from pipelines.user_keys import keyed_user_ids
from pipelines.validate import contract_fields, json_fields, validation_params
from queries.warehouse import KEY_FINGERPRINT

log = logging.getLogger("pulse.refresh")
CHUNK_ROWS = 1_000_000  # rows validated at a time: bounds memory on a big file
# Rows staged in temp tables (pending_<table>, shaped like the lake's) before they go to the lake in
# one statement per table: a load of many small files writes a few data files, not one per file
# and table, and checks its ids against the lake once per flush instead of once per chunk.
FLUSH_ROWS = 1_000_000
# warehouse_meta's record that every stored event has the keyed hash of its id (schema.sql)
EVENT_KEYS = "event_keys"


# The columns of each stream's events as the lake stores them (staging keeps user_key a UHUGEINT:
# stage_events.sql stores it as a UUID).
EVENT_COLUMNS = {
    "engagement": "event_id, event_at, user_key, province, age_band, language, event_type, video_id, "
    "creator_id, hashtags, surface, watch_time_ms, partner_id, is_campaign",
    "referral": "event_id, event_at, user_key, province, age_band, language, partner_id, stage, entry_point, channel",
    "safety": "event_id, event_at, user_key, province, age_band, language, action, target_type, target_id, "
    "policy, detection, views_at_action",
}


@dataclass
class FileResult:
    rel: str
    stream: str
    sha256: str
    size: int
    mtime_ns: int
    status: str  # loaded | unreadable | duplicate_file
    reason: str | None = None
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    unknown_columns: list[str] = field(default_factory=list)


@dataclass
class StreamCounts:
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "quarantined": {"total": self.quarantined, "by_reason": dict(sorted(self.by_reason.items()))},
        }


@dataclass
class Staged:
    """A load staged in an open lake transaction (`lake`), not yet committed. `snapshot_id`
    is the load's own id (refresh_runs.snapshot_id, the rows' load_id), None when there was
    nothing to load."""

    snapshot_id: str | None
    files: list[FileResult]
    streams: dict[str, StreamCounts]
    waiting: list[str]
    seen: list[str]
    started_at: dt.datetime
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    lake: duckdb.DuckDBPyConnection | None = None  # the lake's open transaction, committed by publish
    lake_snapshot: str | None = None  # the DuckLake snapshot that commit made


def new_snapshot_id() -> str:
    """Sortable by creation time (to the microsecond, from the wall clock), unique by its suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"


def stage(settings: Settings, d: DataDir, plan: Plan, now: dt.datetime | None = None) -> Staged:
    """Read, validate and load every candidate file into one open lake transaction."""
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    staged = Staged(None, [], {s: StreamCounts() for s in ref.STREAMS}, plan.waiting, plan.seen, now)
    staged.skipped = plan.skipped
    if not plan.published and not plan.candidates:
        return staged
    key = hmac_key(d, settings)  # before anything is written: another key than the warehouse's stops here
    con = connect_lake(settings, d)
    if not plan.candidates and not marts_behind(con, settings):
        con.close()
        return staged
    snapshot_id = new_snapshot_id()
    # DuckLake 1.5.5 turns a join's dynamic filter (the event ids of a chunk) into SQL of its
    # own for the file list, without escaping: an event_id with a quote broke the refresh
    # (found by tests/test_property_staging.py). This connection does not push join filters.
    con.execute("set disabled_optimizers = 'join_filter_pushdown'")
    try:
        con.execute("begin transaction")
        if not _load_into(con, settings, plan, staged, key, snapshot_id, now, started):
            con.execute("rollback")
            con.close()
            return staged
    except BaseException:
        con.close()  # rolls the transaction back
        raise
    staged.snapshot_id, staged.lake = snapshot_id, con
    staged.timings["stage_s"] = time.perf_counter() - started
    return staged


def _load_into(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    plan: Plan,
    staged: Staged,
    key: bytes,
    snapshot_id: str,
    now: dt.datetime,
    started: float,
) -> bool:
    """Every candidate file, counts, ledger, marts, partner releases, alert incidents and the
    run record, on con; False when no file was processed and the marts are as the settings and
    declarations ask (nothing to publish)."""
    prepare(con)
    meta = dict(con.sql("select name, value from warehouse_meta").fetchall())
    if meta.get(KEY_FINGERPRINT) != fingerprint(key):  # a new lake (hmac_key refused another key)
        con.execute("delete from warehouse_meta where name = $name", {"name": KEY_FINGERPRINT})
        con.execute(
            "insert into warehouse_meta values ($name, $value)", {"name": KEY_FINGERPRINT, "value": fingerprint(key)}
        )
    if EVENT_KEYS not in meta:  # a lake made before the keyed hash of event ids: its rows get it
        for stream in ref.STREAMS:
            con.execute(stream_sql("stage_event_keys", stream), {"salt": event_id_salt(key)})
        con.execute("insert into warehouse_meta values ($name, 'v1')", {"name": EVENT_KEYS})
    fault_point("after_schema")
    pending = _Pending(con)
    batch_hashes: set[str] = set()
    for f in plan.candidates:
        seq = len(staged.files)
        result = _stage_file(con, settings, key, f, snapshot_id, now, plan.known_hashes | batch_hashes, pending)
        if result is None:
            staged.waiting.append(f.rel)
            continue
        staged.files.append(result)
        batch_hashes.add(result.sha256)
        log.info(
            "[%d/%d] %s: %s, %d rows read, %d quarantined",
            seq + 1,
            len(plan.candidates),
            f.rel,
            result.reason or result.status.replace("_", " "),
            result.read,
            result.quarantined,
        )
        if seq == 0:
            fault_point("after_first_file")
    pending.flush()
    staged.timings["stage_files_s"] = time.perf_counter() - started
    if not staged.files and not marts_behind(con, settings):
        return False
    fault_point("before_count")
    _count_and_record(con, staged, snapshot_id)
    fault_point("after_count")
    t = time.perf_counter()
    brought = {s for s, c in staged.streams.items() if c.loaded}
    kind = build_marts(con, settings, snapshot_id, brought)  # pipelines/marts.py
    staged.timings[f"marts_{kind}_s"] = time.perf_counter() - t
    fault_point("after_marts")
    t = time.perf_counter()
    release_closed_weeks(con, settings, snapshot_id, now)
    staged.timings["partner_releases_s"] = time.perf_counter() - t
    fault_point("after_releases")
    t = time.perf_counter()
    record_alert_incidents(con, settings, snapshot_id, now)  # incidents in this snapshot (pipelines/alerts.py)
    staged.timings["alerts_s"] = time.perf_counter() - t
    fault_point("after_alerts")
    _record_run(con, staged, snapshot_id, now)
    return True


def stream_sql(name: str, stream: str) -> str:
    """The statement of pipelines/sql/<name>.sql for one stream: its `{stream}` is the stream's
    name, one of ref.STREAMS (an identifier from a fixed set, never from data)."""
    if stream not in ref.STREAMS:
        raise ValueError(f"not a stream: {stream!r}")
    return sql(name, "pipelines").replace("{stream}", stream)


def _filled(name: str, **parts: str) -> str:
    """pipelines/sql/<name>.sql with its `{part}`s replaced (in one pass) by fixed SQL texts."""
    return re.sub(r"\{(\w+)\}", lambda m: parts[m.group(1)], sql(name, "pipelines"))


def _stage_file(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    key: bytes,
    f: LandingFile,
    snapshot_id: str,
    now: dt.datetime,
    known: set[str],
    pending: _Pending,
) -> FileResult | None:
    """Load one file, chunk by chunk: its rows go in whole or not at all.
    None when the file changed while being read (it waits for the next run)."""
    f = replace(f, max_bytes=settings.validation.max_file_bytes)
    try:
        sha, unusable = content_sha256(f), None
    except UnusableContent as e:  # empty, or over a line or file limit: recorded, never read
        sha, unusable = e.sha256, str(e)
    except (FileNotFoundError, UnreadableFile):  # removed, or replaced by a link, since discovery
        return None
    if not unchanged_since_discovery(f):
        return None
    if unusable is not None:  # before the duplicate check: every empty file has the same hash
        return FileResult(f.rel, f.stream, sha, f.size, f.mtime_ns, "unreadable", reason=unusable)
    result = FileResult(f.rel, f.stream, sha, f.size, f.mtime_ns, "loaded")
    if sha in known:
        result.status = "duplicate_file"
        return result
    expected = COLUMNS[f.stream]
    unknown: set[str] = set()
    params = {"load_id": snapshot_id, "sha": sha}
    try:
        for chunk in iter_rows(f, CHUNK_ROWS):
            rows, extra = (
                json_fields(con, chunk, expected) if "_json" in chunk.columns else contract_fields(chunk, expected)
            )
            unknown.update(extra)
            read, quarantined = _stage_chunk(con, settings, key, f, rows, sha, snapshot_id, now)
            result.read += read
            result.quarantined += quarantined
            pending.added(f.stream, read)
    except UnreadableFile as e:
        # Damaged after some chunks loaded: take them out again; the file is recorded whole
        # (unless it changed meanwhile: a file being rewritten waits for the next run).
        pending.unload(f.stream, params)
        if not unchanged_since_discovery(f):
            return None
        return FileResult(f.rel, f.stream, sha, f.size, f.mtime_ns, "unreadable", reason=str(e))
    if not unchanged_since_discovery(f):  # rewritten while we read it: the next run takes it
        pending.unload(f.stream, params)
        return None
    result.unknown_columns = sorted(unknown)
    return result


class _Pending:
    """This load's rows on their way to the lake: temp tables shaped like the lake's, flushed
    into it when they hold FLUSH_ROWS rows and once after the last file. A flush drops the ids
    the lake already holds (earlier loads, or this load's earlier flushes: the first sighting
    wins), so a chunk only checks its ids against the pending rows."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.rows = dict.fromkeys(ref.STREAMS, 0)  # rows read into each stream's pending tables
        con.execute(sql("stage_pending", "pipelines"))

    def added(self, stream: str, rows: int) -> None:
        self.rows[stream] += rows
        if sum(self.rows.values()) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for stream in (s for s, n in self.rows.items() if n):
            self.con.execute(stream_sql("stage_flush_events", stream))
        if any(self.rows.values()):
            self.con.execute(sql("stage_flush_quarantine", "pipelines"))
        self.rows = dict.fromkeys(ref.STREAMS, 0)

    def unload(self, stream: str, params: dict[str, str]) -> None:
        """Take one file's rows of this load out again, pending or already flushed. Not a
        transaction around the file: DuckDB keeps a transaction's appends in memory, and files
        can be large."""
        if stream not in ref.STREAMS:
            raise ValueError(f"not a stream: {stream!r}")
        for table in (f"{stream}_events", "quarantine_rows"):
            for where in (f"temp.main.pending_{table}", table):
                self.con.execute(_filled("stage_unload", table=where), params)
        for counts in ("temp.main.load_loaded_counts", "temp.main.load_reason_counts"):
            self.con.execute(
                f"delete from {counts} where stream = $stream and file_sha256 = $sha",
                {"stream": stream, "sha": params["sha"]},
            )


def _stage_chunk(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    key: bytes,
    f: LandingFile,
    rows: pl.DataFrame,
    sha: str,
    snapshot_id: str,
    now: dt.datetime,
) -> tuple[int, int]:
    """Hash, type and validate one chunk in one pass; quarantine what breaks a rule; stage the
    first sighting of each new event_id (earlier loads, files and lines come first: the ids of
    earlier loads are dropped when the pending rows are flushed into the lake)."""
    con.register("file_rows", rows)
    con.register("keyed_ids", keyed_user_ids(rows, key))
    try:
        checked = _filled(
            "stage_checked",
            landing_rows=sql("landing_rows", "pipelines"),
            validate=sql(f"validate_{f.stream}", "pipelines"),
            columns=EVENT_COLUMNS[f.stream],
        )
        con.execute(checked, validation_params(settings, f.stream, now))
    finally:
        con.unregister("file_rows")
        con.unregister("keyed_ids")
    # Rejected rows keep their values, with user_id replaced by its hash. They are few:
    # Polars picks them out of the chunk, so DuckDB does not scan the whole chunk again.
    bad = con.sql(sql("stage_rejected", "pipelines")).pl()
    if bad.height:
        con.register("rejected_rows", rows.filter(pl.col("_line").is_in(bad["_line"].implode())))
        con.register("rejected", bad)
        try:
            con.execute(
                sql("stage_quarantine", "pipelines"),
                {
                    "sha": sha,
                    "load_id": snapshot_id,
                    "stream": f.stream,
                    "path": f.rel,
                    "earliest": settings.validation.earliest.isoformat(),
                },
            )
        finally:
            con.unregister("rejected_rows")
            con.unregister("rejected")
    # Which valid rows are not new: ids already staged by this load, and every sighting but the
    # first of an id repeated in the chunk.
    con.execute(sql("stage_repeated", "pipelines"))
    con.execute(stream_sql("stage_events", f.stream), {"load_id": snapshot_id, "sha": sha, "salt": event_id_salt(key)})
    return con.sql(sql("stage_chunk_counts", "pipelines")).fetchall()[0]


def _count_and_record(con: duckdb.DuckDBPyConnection, staged: Staged, snapshot_id: str) -> None:
    """Per-file and per-stream counts of this load, then the ledger rows that account for it."""
    loaded = {(stream, sha): n for stream, sha, n in con.sql(sql("stage_loaded_counts", "pipelines")).fetchall()}
    for f in staged.files:
        if f.status == "loaded":
            f.loaded = loaded.get((f.stream, f.sha256), 0)
            f.duplicates = f.read - f.quarantined - f.loaded
        c = staged.streams[f.stream]
        c.read += f.read
        c.loaded += f.loaded
        c.duplicates += f.duplicates
        c.quarantined += f.quarantined
    for stream, code, n in con.sql(sql("stage_reason_counts", "pipelines")).fetchall():
        staged.streams[stream].by_reason[reasons.BY_CODE[code].summary()] += n
    if not staged.files:  # a load that only builds marts (pipelines/marts.py: marts_behind)
        return
    con.executemany(
        "insert into file_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.sha256,
                f.stream,
                f.rel,
                f.size,
                f.mtime_ns,
                f.status,
                f.reason,
                f.read,
                f.loaded,
                f.duplicates,
                f.quarantined,
                f.unknown_columns,
                snapshot_id,
                staged.started_at,
            )
            for f in staged.files
        ],
    )


def _record_run(con: duckdb.DuckDBPyConnection, staged: Staged, snapshot_id: str, started: dt.datetime) -> None:
    summary = {s: c.to_json() for s, c in staged.streams.items()}
    con.execute(
        "insert into refresh_runs values ($id, $started, now(), $summary)",
        {"id": snapshot_id, "started": started, "summary": json.dumps(summary)},
    )
