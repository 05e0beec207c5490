"""The landing zone: which files are new, what they are, and how to read them as text.

A file is identified by the SHA-256 of its content (of the decompressed bytes for `.gz`,
so a re-compressed copy is the same file). Every value is read as text; typing and
validation happen afterwards in SQL, so a bad value in row 1.5M cannot fail a read late.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from queries.datadir import DataDir
from queries.reference import STREAMS

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


@dataclass(frozen=True)
class LandingFile:
    """A file found under landing/<stream>/ with what the last look saw of it."""

    path: Path
    rel: str  # path relative to the landing zone, as reported everywhere
    stream: str
    size: int
    mtime_ns: int

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


def discover(d: DataDir, settle_seconds: float) -> Discovery:
    """Every file below landing/<stream>/ that has not changed for `settle_seconds`."""
    found = Discovery()
    now = time.time_ns()
    for stream in STREAMS:
        root = d.stream_landing(stream)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            name = path.name
            if name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES) or not path.is_file():
                continue
            st = path.stat()
            rel = str(path.relative_to(d.landing))
            if now - st.st_mtime_ns < settle_seconds * 1e9:
                found.waiting.append(rel)
                continue
            found.candidates.append(LandingFile(path, rel, stream, st.st_size, st.st_mtime_ns))
    return found


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is our own words, never file content."""


def read_content(f: LandingFile) -> tuple[str, bytes]:
    """(SHA-256 of the content, the decompressed bytes)."""
    raw = f.path.read_bytes()
    if f.compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            return hashlib.sha256(raw).hexdigest(), b""  # hashed as is; reading will say why
    return hashlib.sha256(raw).hexdigest(), raw


def unchanged_since_discovery(f: LandingFile) -> bool:
    """False when the file grew or was rewritten while we read it: it waits for the next run."""
    try:
        st = f.path.stat()
    except FileNotFoundError:
        return False
    return (st.st_size, st.st_mtime_ns) == (f.size, f.mtime_ns)


def read_rows(f: LandingFile, content: bytes) -> pl.DataFrame:
    """All columns as text with lower-case names, plus `_line` (1-based, as a person counts:
    the header is line 1 of a CSV). Blank lines are not rows. Raises UnreadableFile."""
    fmt = f.format
    if fmt is None:
        raise UnreadableFile(f"unsupported file type; accepted: {', '.join(FORMATS)}")
    if f.compressed and not content:
        raise UnreadableFile("not a valid gzip file")
    try:
        if fmt == "parquet":
            df = _read_parquet(content)
            first_line = 1
        elif fmt == "csv":
            df = pl.read_csv(io.BytesIO(content), infer_schema=False, encoding="utf8", row_index_name="_line")
            first_line = 2
        else:
            df = _read_json_lines(content)
            first_line = 1
    except UnreadableFile:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as e:
        raise UnreadableFile(_reason(fmt, e)) from None
    df = df.rename({c: c.strip().lower() for c in df.columns if c != "_line"})
    df = df.with_columns(pl.col("_line").cast(pl.Int64) + first_line)
    values = [c for c in df.columns if c not in ("_line",)]
    if values:
        df = df.filter(~pl.all_horizontal(pl.col(values).is_null()))  # blank lines
    return df


def _reason(fmt: str, error: Exception) -> str:
    text = str(error).lower()
    if "utf-8" in text or "utf8" in text or "invalid unicode" in text:
        return "not UTF-8 text"
    if fmt == "parquet":
        return "not a readable Parquet file (truncated or another format)"
    if fmt == "csv":
        return "not a readable CSV file (ragged rows or broken quoting)"
    return "not readable as JSON lines"


def _read_parquet(content: bytes) -> pl.DataFrame:
    df = pl.read_parquet(io.BytesIO(content)).with_row_index("_line")
    as_text = []
    for name, dtype in df.schema.items():
        if name == "_line":
            continue
        col = pl.col(name)
        if isinstance(dtype, pl.List | pl.Array):
            as_text.append(col.cast(pl.List(pl.String)).list.join(" ").alias(name))
        elif isinstance(dtype, pl.Struct):
            as_text.append(col.struct.json_encode().alias(name))
        elif isinstance(dtype, pl.Datetime):
            tz = "UTC" if dtype.time_zone is None else None
            ts = col.dt.replace_time_zone(tz) if tz else col.dt.convert_time_zone("UTC")
            as_text.append(ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ").alias(name))
        elif dtype != pl.String:
            as_text.append(col.cast(pl.String).alias(name))
    return df.with_columns(as_text)


def _read_json_lines(content: bytes) -> pl.DataFrame:
    """One text column `_json` per line; fields are pulled out in SQL (keys matched case-insensitively)."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableFile("not UTF-8 text") from None
    lines = (
        pl.read_csv(
            io.BytesIO(content),
            has_header=False,
            separator="\x1f",
            quote_char=None,
            new_columns=["_json"],
            infer_schema=False,
            row_index_name="_line",
        )
        if content.strip()
        else pl.DataFrame(schema={"_line": pl.UInt32, "_json": pl.String})
    )
    return lines
