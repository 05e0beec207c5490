"""Discover: which landing files are new. A file under landing/<stream>/ is a candidate when it
has not changed for the settle time and its path, size and mtime are not in the published
ledger; a symbolic link is never followed; the rest wait for the next run. The landing zone
may be on object storage instead (`landing.path = "s3://…"`): its objects are listed the same
way, by key, size and last-modified time (read_objects)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from core.datadir import DataDir
from core.lake import connect_lake, landing_connection, landing_url
from core.reference import STREAMS
from core.settings import Settings, load_settings

DEFAULT_SETTLE_SECONDS = 5.0

# extension -> reader format; matched case-insensitively on the end of the name
FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".jsonl.gz": "json",
    ".ndjson.gz": "json",
    ".parquet": "parquet",
}

IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".inprogress")

DEFAULT_MAX_FILE_BYTES = 10 << 30  # validation.max_file_bytes

OUTSIDE = "symbolic link pointing outside the landing zone"
GLOB_CHARACTERS = "*?[]{}\\"
WILDCARD_NAME = "object name has a wildcard character (* ? [ ] { } or a backslash); rename it to load it"


@dataclass(frozen=True)
class LandingFile:
    """A file found under landing/<stream>/ with what the last look saw of it."""

    path: Path
    rel: str  # path relative to the landing zone, as reported everywhere
    stream: str
    size: int
    mtime_ns: int
    max_bytes: int = DEFAULT_MAX_FILE_BYTES  # validation.max_file_bytes, set by the refresh
    url: str | None = None  # the object's address when the landing zone is on object storage (`path`: its key)

    @property
    def format(self) -> str | None:
        name = self.path.name.lower()
        return next((fmt for ext, fmt in FORMATS.items() if name.endswith(ext)), None)

    @property
    def compressed(self) -> bool:
        return self.path.name.lower().endswith(".gz")


@dataclass
class Discovery:
    """The landing zone at the start of a run."""

    candidates: list[LandingFile] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # modified too recently: next run
    skipped: list[dict[str, str]] = field(default_factory=list)  # never read: {"path", "reason"}


@dataclass
class Plan:
    """What discovery found: files to read, and what it already knows it will not read."""

    candidates: list[LandingFile]
    waiting: list[str]
    seen: list[str]  # same path, size and mtime as a file in the ledger
    known_hashes: set[str]
    published: bool  # the lake holds a published load (its ledger was read)
    skipped: list[dict[str, str]] = field(default_factory=list)  # never read (links): path and reason


def discover(d: DataDir, settle_seconds: float, settings: Settings | None = None) -> Discovery:
    """Every regular file below landing/<stream>/ that has not changed for `settle_seconds`.
    Symbolic links are never followed (a link to a file inside the zone is skipped too: its
    target is read under its own name); they and other non-files are reported as skipped.
    With the landing zone on object storage, every object below <stream>/ instead."""
    if settings is not None and (url := landing_url(settings)) is not None:
        return discover_objects(settings, url, settle_seconds)
    found = Discovery()
    now = time.time_ns()
    zone = Path(os.path.realpath(d.landing))  # the landing folder may itself be a mount's link
    for stream in STREAMS:
        root = d.stream_landing(stream)
        if root.is_symlink():
            found.skipped.append({"path": stream, "reason": _link_reason(root, zone)})
            continue
        if not root.is_dir():
            continue
        for path in sorted(_walk(root)):
            name = path.name
            if name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES):
                continue
            rel = str(path.relative_to(d.landing))
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue  # gone since the listing
            if stat.S_ISLNK(st.st_mode):
                found.skipped.append({"path": rel, "reason": _link_reason(path, zone)})
                continue
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                found.skipped.append({"path": rel, "reason": "not a regular file"})
                continue
            if now - st.st_mtime_ns < settle_seconds * 1e9:
                found.waiting.append(rel)
                continue
            found.candidates.append(LandingFile(path, rel, stream, st.st_size, st.st_mtime_ns))
    return found


def discover_objects(settings: Settings, url: str, settle_seconds: float) -> Discovery:
    """Every object below URL<stream>/ (listed by DuckDB, which reads no content for it) whose
    last-modified time is `settle_seconds` old, as a LandingFile named by its key below URL."""
    found = Discovery()
    now = time.time_ns()
    for url_of, size, modified in list_objects(url):
        rel = url_of.removeprefix(url)
        stream, _, below = rel.partition("/")
        name = rel.rsplit("/", 1)[-1]
        if stream not in STREAMS or not below or name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES):
            continue
        if any(c in rel for c in GLOB_CHARACTERS):  # DuckDB reads an object by a glob pattern
            found.skipped.append({"path": rel, "reason": WILDCARD_NAME})
            continue
        mtime_ns = int(modified.timestamp() * 1e9)
        if now - mtime_ns < settle_seconds * 1e9:
            found.waiting.append(rel)
            continue
        found.candidates.append(LandingFile(Path(rel), rel, stream, size, mtime_ns, url=url_of))
    return found


def list_objects(url: str) -> list[tuple[str, int, dt.datetime]]:
    """(address, size, last-modified) of every object below `url` (which has no wildcard:
    check_landing_path), in key order."""
    con = landing_connection(url)
    try:
        return con.sql(
            "select filename, size, last_modified from read_blob($glob) order by filename", params={"glob": url + "**"}
        ).fetchall()
    finally:
        con.close()


def _walk(root: Path) -> Iterator[Path]:
    """Every entry below root, links included but not followed."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            yield Path(folder) / name


def _link_reason(link: Path, zone: Path) -> str:
    target = Path(os.path.realpath(link))
    if not target.exists():
        return "broken symbolic link"
    if not target.is_relative_to(zone):
        return OUTSIDE
    inside = target.relative_to(zone)
    if target.is_dir():
        return f"symbolic link to the folder {inside}/ (not followed: files are read where they are)"
    return f"symbolic link to {inside} inside the landing zone (not followed: a file is read under its own name)"


def discover_new_files(
    d: DataDir, settle_seconds: float = DEFAULT_SETTLE_SECONDS, settings: Settings | None = None
) -> Plan:
    """Files under landing/ not yet in the published ledger (by path, size and mtime)."""
    found: Discovery = discover(d, settle_seconds, settings or load_settings())
    rows = _lake_ledger(d, settings)
    ledger = {(p, s, m) for p, s, m, _ in rows or ()}
    hashes = {h for *_, h in rows or ()}
    candidates, seen = [], []
    for f in found.candidates:
        (seen if (f.rel, f.size, f.mtime_ns) in ledger else candidates).append(f)
    return Plan(candidates, found.waiting, seen, hashes, rows is not None, found.skipped)


def _lake_ledger(d: DataDir, settings: Settings | None) -> list[tuple[str, int, int, str]] | None:
    """The lake's file ledger as of its latest snapshot (None before the first refresh)."""
    con = connect_lake(settings or load_settings(), d)
    try:
        return con.sql("select path, size_bytes, mtime_ns, file_sha256 from file_ledger").fetchall()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
