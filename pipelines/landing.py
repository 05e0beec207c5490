"""The landing zone: which files are new, what they are, and how to read them as text.

A file is identified by the SHA-256 of its content (of the decompressed bytes for `.gz`,
so a re-compressed copy is the same file). Every value is read as text; typing and
validation happen afterwards in SQL, so a bad value in row 1.5M cannot fail a read late.
"""

from __future__ import annotations

import gzip
import hashlib
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

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
GZIP_MAGIC = b"\x1f\x8b"
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


def content_sha256(f: LandingFile) -> str:
    """SHA-256 of the content (of the decompressed bytes for .gz), read in blocks."""
    h = hashlib.sha256()
    try:
        with gzip.open(f.path, "rb") if f.compressed else open(f.path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    except (OSError, EOFError, zlib.error):  # not gzip or cut short: the raw bytes name it
        return hashlib.sha256(f.path.read_bytes()).hexdigest()
    return h.hexdigest()


def unchanged_since_discovery(f: LandingFile) -> bool:
    """False when the file grew or was rewritten while we read it: it waits for the next run."""
    try:
        st = f.path.stat()
    except FileNotFoundError:
        return False
    return (st.st_size, st.st_mtime_ns) == (f.size, f.mtime_ns)


def iter_rows(f: LandingFile, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The file in chunks of at most `chunk_rows` rows, streamed from disk: all columns as
    text with lower-case names, plus `_line` (1-based, as a person counts: a CSV header is
    line 1). JSON lines come as one `_json` text column. Blank lines are not rows. Raises
    UnreadableFile, possibly after some chunks (a damaged row group)."""
    fmt = f.format
    if fmt is None:
        raise UnreadableFile(f"unsupported file type; accepted: {', '.join(FORMATS)}")
    if f.compressed:  # .csv.gz and .jsonl.gz: Polars inflates them as it streams
        with open(f.path, "rb") as fh:
            if fh.read(2) != GZIP_MAGIC:
                raise UnreadableFile("not a valid gzip file")
    source = f.path
    if fmt == "parquet":
        yield from _parquet_chunks(source, chunk_rows)
        return
    if fmt == "csv":
        lines = pl.scan_csv(source, infer_schema=False, encoding="utf8", row_index_name="_line")
        first_line = 2
    else:
        lines = pl.scan_csv(
            source,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            new_columns=["_json"],
            infer_schema=False,
            encoding="utf8",
            row_index_name="_line",
        )
        first_line = 1
    try:
        for batch in lines.collect_batches(chunk_size=chunk_rows, maintain_order=True):
            yield _tidy(batch, first_line)
    except pl.exceptions.NoDataError:
        return  # an empty file has no rows
    except (pl.exceptions.PolarsError, OSError, ValueError, EOFError) as e:
        raise UnreadableFile(_reason(fmt, e, f.compressed)) from None


def first_filled(values: list[pl.Expr]) -> pl.Expr:
    """One field from several spellings of its name (`user_id`, `USER_ID`), row by row: the
    first that is not blank, in the order given; one spelling is taken as it is."""
    if len(values) == 1:
        return values[0]
    return pl.coalesce([pl.when(v.str.strip_chars(" ") != "").then(v) for v in values])


def spelling_order(name: str, spellings: list[str]) -> list[str]:
    """The lower-case spelling of a column name first, then the others sorted."""
    return sorted(spellings, key=lambda s: (s != name, s))


def _tidy(df: pl.DataFrame, first_line: int) -> pl.DataFrame:
    names: dict[str, list[str]] = {}  # lower-case name -> the file's spellings of it
    for c in df.columns:
        if c != "_line":
            names.setdefault(c.strip().lower(), []).append(c)
    df = df.select(
        pl.col("_line").cast(pl.Int64) + first_line,
        *[first_filled([pl.col(c) for c in spelling_order(n, found)]).alias(n) for n, found in names.items()],
    )
    values = [c for c in df.columns if c != "_line"]
    return df.filter(~pl.all_horizontal(pl.col(values).is_null())) if values else df  # blank lines


def _reason(fmt: str, error: Exception, compressed: bool = False) -> str:
    text = str(error).lower()
    if compressed and (isinstance(error, OSError | EOFError) or any(w in text for w in ("gzip", "deflate"))):
        return "not a valid gzip file (truncated or corrupt)"
    if "utf-8" in text or "utf8" in text or "invalid unicode" in text:
        return "not UTF-8 text"
    if fmt == "csv":
        return "not a readable CSV file (ragged rows or broken quoting)"
    return "not readable as JSON lines"


def _parquet_chunks(source: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Polars' own (multi-threaded) Parquet reader, one slice of rows at a time in file order.
    A slice decodes only the row groups it needs; streaming batches instead reads the whole
    file ahead of the caller (2 GB held for a 10M-row file)."""
    try:
        scan = pl.scan_parquet(source).with_row_index("_line")
        total = scan.select(pl.len()).collect().item()
        if total == 0:
            yield _tidy(_as_text(pl.DataFrame(schema=pl.read_parquet_schema(source))).with_row_index("_line"), 1)
        for offset in range(0, total, chunk_rows):
            yield _tidy(_as_text(scan.slice(offset, chunk_rows).collect()), 1)
    except (pa.ArrowException, OSError, ValueError, pl.exceptions.PolarsError):
        raise UnreadableFile("not a readable Parquet file (truncated or another format)") from None


def _as_text(df: pl.DataFrame) -> pl.DataFrame:
    as_text = []
    for name, dtype in df.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List | pl.Array):
            as_text.append(col.cast(pl.List(pl.String)).list.join(" ").alias(name))
        elif isinstance(dtype, pl.Struct):
            as_text.append(col.struct.json_encode().alias(name))
        elif isinstance(dtype, pl.Datetime):
            ts = col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col.dt.convert_time_zone("UTC")
            as_text.append(ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ").alias(name))
        elif dtype != pl.String:
            as_text.append(col.cast(pl.String).alias(name))
    return df.with_columns(as_text)
