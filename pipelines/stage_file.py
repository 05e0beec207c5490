"""The stateless stage of one landing file: hashed, read (pipelines/read.py), validated
(pipelines/validate.py, CONTRACT §2) and its user ids keyed (pipelines/user_keys.py), into a
sink. The refresh's own process stages into the lake transaction's pending tables
(pipelines/stage.py); a stage worker (`pulse refresh --workers N`, pipelines/flows.py, or a
work pool's flow run, `pulse refresh --pool NAME`, pipelines/work_pool.py) stages
into its own in-memory database and writes the rows as Parquet parts under the data path
(`stage_file_parts`), which the committer reads in the plan's order: the first sighting of an
event id still wins, and only the committer looks at the lake."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import uuid
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl

from core import reference as ref
from core.datadir import DataDir
from core.lake import lake_location, work_connection
from core.settings import Settings
from core.sqlfiles import sql
from pipelines.discover import LandingFile
from pipelines.lake_write import fault_point, prepare_work
from pipelines.read import (
    COLUMNS,
    UnreadableFile,
    UnusableContent,
    content_sha256,
    iter_rows,
    unchanged_since_discovery,
)
from pipelines.secrets import event_id_salt, fingerprint, local_key
from pipelines.user_keys import keyed_user_ids
from pipelines.validate import contract_fields, json_fields, validation_params

CHUNK_ROWS = 1_000_000  # rows validated at a time: bounds memory on a big file
# Rows staged in pending tables (pending_<table>, shaped like the lake's) before they go on, to
# the lake in one statement per table (pipelines/stage.py) or to one Parquet part (Parts): a load
# of many small files writes a few data files, not one per file and table.
FLUSH_ROWS = 1_000_000
STAGING_FOLDER = "_staged"  # under the data path: one folder per load, removed after it


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


class Sink(Protocol):
    """Where stage_file puts a file's rows: pending tables on its connection (stage_events.sql,
    stage_quarantine.sql), told how many rows each chunk added, and asked to take a damaged
    file's rows out again."""

    def added(self, stream: str, rows: int) -> None: ...

    def unload(self, stream: str, params: dict[str, str]) -> None: ...


def unload_pending(
    con: duckdb.DuckDBPyConnection, stream: str, params: dict[str, str], tables: tuple[str, ...]
) -> None:
    """One file's rows of this load out of `tables` again (stage_unload.sql)."""
    if stream not in ref.STREAMS:
        raise ValueError(f"not a stream: {stream!r}")
    for table in tables:
        con.execute(filled("stage_unload", table=table.format(stream=stream)), params)


@dataclass(frozen=True)
class Part:
    """Some of a staged file's rows, in one Parquet file: `table` is <stream>_events or quarantine_rows."""

    table: str
    path: str
    rows: int


@dataclass
class StagedFile:
    """What a stage worker made of one file: its result (None: it changed while being read, it
    waits for the next run), the parts holding its rows (in the order they were read), and the
    fingerprint of the key it hashed with (the committer checks it is the lake's)."""

    rel: str
    result: FileResult | None
    parts: list[Part]
    key_fingerprint: str


def _staged_from_json(raw: dict[str, Any]) -> StagedFile:
    result = raw["result"]
    return StagedFile(
        raw["rel"],
        None if result is None else FileResult(**result),
        [Part(**p) for p in raw["parts"]],
        raw["key_fingerprint"],
    )


@dataclass(frozen=True)
class StageJob:
    """One file for a stage worker: the load it belongs to, the time its validation judges by,
    the content hashes already in the ledger (a known file is not read again) and the folder its
    parts go to (its own, under the load's: staging_path)."""

    file: LandingFile
    load_id: str
    now: dt.datetime
    known: frozenset[str]
    out: str

    def to_json(self) -> dict[str, Any]:
        """As a work pool's flow run takes it (pulse worker --pool): JSON values only."""
        f = self.file
        return {
            "file": {
                "path": str(f.path),
                "rel": f.rel,
                "stream": f.stream,
                "size": f.size,
                "mtime_ns": f.mtime_ns,
                "url": f.url,
            },
            "load_id": self.load_id,
            "now": self.now.isoformat(),
            "known": sorted(self.known),
            "out": self.out,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StageJob:
        f = raw["file"]
        file = LandingFile(Path(f["path"]), f["rel"], f["stream"], int(f["size"]), int(f["mtime_ns"]), url=f.get("url"))
        return cls(file, raw["load_id"], dt.datetime.fromisoformat(raw["now"]), frozenset(raw["known"]), raw["out"])


class Parts:
    """A stage worker's sink: the pending tables written as Parquet parts under `out` when they
    hold FLUSH_ROWS rows and after the file's last chunk. A damaged file's parts are dropped from
    the list (the files are left to the load's folder, removed after the load)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, out: str) -> None:
        # an attempt's own names: a retried file never meets the parts of the attempt that died
        self.con, self.prefix = con, f"{out.rstrip('/')}/{uuid.uuid4().hex[:12]}-"
        if "://" not in out:
            Path(out).mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.parts: list[Part] = []
        con.execute(sql("stage_pending", "pipelines"))

    def added(self, stream: str, rows: int) -> None:
        self.rows += rows
        if self.rows >= FLUSH_ROWS:
            self.write(stream)

    def write(self, stream: str) -> None:
        for table in (f"{stream}_events", "quarantine_rows"):
            (n,) = self.con.sql(f"select count(*) from temp.main.pending_{table}").fetchall()[0]
            if n:
                path = f"{self.prefix}{len(self.parts):04d}-{table}.parquet"
                self.con.execute(
                    f"copy temp.main.pending_{table} to '{_quoted(path)}' (format parquet, compression zstd)"
                )
                self.con.execute(f"delete from temp.main.pending_{table}")
                self.parts.append(Part(table, path, n))
        self.rows = 0

    def unload(self, stream: str, params: dict[str, str]) -> None:
        unload_pending(
            self.con, stream, params, ("temp.main.pending_{stream}_events", "temp.main.pending_quarantine_rows")
        )
        self.parts.clear()


def staging_path(settings: Settings, d: DataDir, load_id: str) -> str:
    """Where a load's stage workers write their parts: a folder of its own under the data path
    (local or s3://), so every worker and the committer reach it."""
    return f"{lake_location(settings, d).data_path}{STAGING_FOLDER}/{load_id}/"


def remove_staging(path: str) -> None:
    """A load's parts, once it committed or failed. A local folder goes now; on object storage
    the parts stay until housekeeping (DuckLake's orphan cleanup removes every file under the
    data path the catalog does not know)."""
    if "://" not in path:
        shutil.rmtree(path, ignore_errors=True)


# A work pool's shard: what it staged, next to its first file's parts. A Parquet file of one row:
# DuckLake's orphan cleanup (housekeeping) deletes the Parquet files under the data path only.
MANIFEST = "manifest.parquet"


def write_manifest(settings: Settings, d: DataDir, path: str, staged: list[StagedFile]) -> None:
    """What a shard staged, as one JSON document in a one-row Parquet file at `path` (local or
    s3://, written by DuckDB, which reaches the data path), for the committer (read_manifest): a
    work pool's flow run returns nothing the committer's machine could read otherwise."""
    con = work_connection(settings, d)
    try:
        if "://" not in path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps([asdict(s) for s in staged])
        con.execute(f"copy (select $text as staged) to '{_quoted(path)}' (format parquet)", {"text": text})
    finally:
        con.close()


def read_manifest(con: duckdb.DuckDBPyConnection, path: str) -> list[StagedFile]:
    """The StagedFiles a shard's manifest holds (write_manifest); [] when there is none yet."""
    try:
        (text,) = con.execute("select staged from read_parquet($path)", {"path": path}).fetchone()
    except duckdb.IOException:
        return []
    return [_staged_from_json(raw) for raw in json.loads(text)]


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def stage_file_parts(settings: Settings, d: DataDir, jobs: list[StageJob]) -> list[StagedFile]:
    """The stateless stage of some files on a worker, one after the other: its own connection (no
    lake attached), the key from PULSE_HMAC_KEY or the data dir's secrets file, each file's rows
    as Parquet parts in its job.out. Never touches the lake."""
    key = local_key(d)
    con = work_connection(settings, d)
    try:
        prepare_work(con)
        out = []
        for job in jobs:
            sink = Parts(con, job.out)
            result = stage_file(con, settings, key, job.file, job.load_id, job.now, job.known, sink)
            loaded = result is not None and result.status == "loaded"
            if loaded:
                sink.write(job.file.stream)
            out.append(StagedFile(job.file.rel, result, sink.parts if loaded else [], fingerprint(key)))
        return out
    finally:
        con.close()


def shards(jobs: list[StageJob], n: int) -> list[list[StageJob]]:
    """`jobs` in at most n shards of about equal bytes (the largest file first, to the lightest
    shard), each in the plan's order: one task a worker, not one a file (a task's own cost in
    Prefect, about a second here, would outweigh a small file's)."""
    bins: list[list[StageJob]] = [[] for _ in range(max(1, min(n, len(jobs))))]
    weight = [0] * len(bins)
    for i in sorted(range(len(jobs)), key=lambda i: -jobs[i].file.size):
        lightest = weight.index(min(weight))
        bins[lightest].append(jobs[i])
        weight[lightest] += jobs[i].file.size
    order = {id(j): i for i, j in enumerate(jobs)}
    return [sorted(b, key=lambda j: order[id(j)]) for b in bins if b]


def stream_sql(name: str, stream: str) -> str:
    """The statement of pipelines/sql/<name>.sql for one stream: its `{stream}` is the stream's
    name, one of ref.STREAMS (an identifier from a fixed set, never from data)."""
    if stream not in ref.STREAMS:
        raise ValueError(f"not a stream: {stream!r}")
    return sql(name, "pipelines").replace("{stream}", stream)


def filled(name: str, **parts: str) -> str:
    """pipelines/sql/<name>.sql with its `{part}`s replaced (in one pass) by fixed SQL texts."""
    return re.sub(r"\{(\w+)\}", lambda m: parts[m.group(1)], sql(name, "pipelines"))


def stage_file(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    key: bytes,
    f: LandingFile,
    snapshot_id: str,
    now: dt.datetime,
    known: AbstractSet[str],
    pending: Sink,
) -> FileResult | None:
    """Stage one file on con, chunk by chunk, into `pending`: its rows go in whole or not at all.
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
            fault_point("stage_after_chunk")
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
        checked = filled(
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
