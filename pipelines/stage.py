"""Stage: every candidate file read (pipelines/read.py), validated (pipelines/validate.py) and
loaded into one open lake transaction with its quarantine, the counts, the file ledger, the
marts (pipelines/marts.py), partner releases, alert incidents and the run record. Nothing is
visible until pipelines/publish.py commits it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb

from core import reasons
from core import reference as ref
from core.datadir import DataDir
from core.errors import PulseError
from core.lake import connect_lake
from core.settings import Settings
from core.sqlfiles import sql
from pipelines.alerts import record_alert_incidents
from pipelines.discover import Plan
from pipelines.lake_write import fault_point, prepare
from pipelines.marts import build_marts, marts_behind
from pipelines.releases import release_closed_weeks
from pipelines.secrets import event_id_salt, fingerprint, hmac_key
from pipelines.stage_file import (
    FLUSH_ROWS,
    FileResult,
    StagedFile,
    StageJob,
    remove_staging,
    stage_file,
    staging_path,
    stream_sql,
    unload_pending,
)
from queries.warehouse import KEY_FINGERPRINT

# Stages the files of a load elsewhere, one StagedFile a job, in order: on stage worker processes
# (pipelines/flows.py on_workers) or a Prefect work pool's workers (pipelines/work_pool.py).
Spread = Callable[[list[StageJob]], list[StagedFile]]

log = logging.getLogger("pulse.refresh")
# warehouse_meta's record that every stored event has the keyed hash of its id (schema.sql)
EVENT_KEYS = "event_keys"


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
    staging: str | None = None  # the folder of the stage workers' parts (stage_file.staging_path)


def new_snapshot_id() -> str:
    """Sortable by creation time (to the microsecond, from the wall clock), unique by its suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"


def stage(
    settings: Settings, d: DataDir, plan: Plan, now: dt.datetime | None = None, spread: Spread | None = None
) -> Staged:
    """Read, validate and load every candidate file into one open lake transaction: in this
    process, or (`spread`) on stage workers first, whose parts are then taken in plan order."""
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
        done = _spread(settings, d, plan, spread, key, snapshot_id, now, staged) if spread else None
        con.execute("begin transaction")
        if not _load_into(con, settings, plan, staged, key, snapshot_id, now, started, done):
            con.execute("rollback")
            con.close()
            return staged
    except BaseException:
        con.close()  # rolls the transaction back
        if staged.staging is not None:
            remove_staging(staged.staging)
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
    done: dict[str, StagedFile] | None,
) -> bool:
    """Every candidate file (staged here, or taken from the stage workers' parts: `done`),
    counts, ledger, marts, partner releases, alert incidents and the run record, on con; False
    when no file was processed and the marts are as the settings and declarations ask (nothing
    to publish)."""
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
        known = plan.known_hashes | batch_hashes
        if done is None:
            result = stage_file(con, settings, key, f, snapshot_id, now, known, pending)
        else:
            result = pending.take(done[f.rel], known)
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


def _spread(
    settings: Settings,
    d: DataDir,
    plan: Plan,
    spread: Spread,
    key: bytes,
    snapshot_id: str,
    now: dt.datetime,
    staged: Staged,
) -> dict[str, StagedFile]:
    """The candidates staged by the workers, before the lake transaction opens, each file into
    a folder of its own under the load's (staging_path). PulseError when a worker hashed with
    another key than the lake's (its parts would count every person again)."""
    staged.staging = staging_path(settings, d, snapshot_id)
    known = frozenset(plan.known_hashes)
    jobs = [StageJob(f, snapshot_id, now, known, f"{staged.staging}{i:05d}/") for i, f in enumerate(plan.candidates)]
    t = time.perf_counter()
    done = {s.rel: s for s in spread(jobs)}
    staged.timings["stage_workers_s"] = time.perf_counter() - t
    if missing := [f.rel for f in plan.candidates if f.rel not in done]:
        raise PulseError(f"the stage workers returned nothing for {len(missing)} file(s), e.g. {missing[0]}")
    if bad := {s.key_fingerprint for s in done.values()} - {fingerprint(key)}:
        raise PulseError(
            f"a stage worker hashed with another HMAC key (fingerprint {sorted(bad)[0]}, the lake's "
            f"{fingerprint(key)}): give every worker the same PULSE_HMAC_KEY; nothing was loaded"
        )
    return done


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
        tables = ("temp.main.pending_{stream}_events", "{stream}_events")
        unload_pending(self.con, stream, params, (*tables, "temp.main.pending_quarantine_rows", "quarantine_rows"))
        for counts in ("temp.main.load_loaded_counts", "temp.main.load_reason_counts"):
            self.con.execute(
                f"delete from {counts} where stream = $stream and file_sha256 = $sha",
                {"stream": stream, "sha": params["sha"]},
            )

    def take(self, done: StagedFile, known: set[str]) -> FileResult | None:
        """A file a stage worker staged: its parts into the pending tables, each event id's
        first sighting only (stage_take_events.sql), as if it had been staged here. A file whose
        content an earlier file of this load had is a duplicate: its parts are not read."""
        result = done.result
        if result is None or result.status != "loaded":
            return result
        if result.sha256 in known:
            return replace(result, status="duplicate_file", read=0, quarantined=0, unknown_columns=[])
        for part in done.parts:
            if part.table == "quarantine_rows":
                self.con.execute(sql("stage_take_quarantine", "pipelines"), {"part": part.path})
            else:
                self.con.execute(stream_sql("stage_take_events", result.stream), {"part": part.path})
        self.added(result.stream, result.read)
        return result


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
