"""Read: what a landing file is and how to read it as text (discovery is pipelines/discover.py).

A file is identified by the SHA-256 of its content (of the decompressed bytes for `.gz`,
so a re-compressed copy is the same file). Every value is read as text; typing and
validation happen afterwards in SQL, so a bad value in row 1.5M cannot fail a read late.

Hostile files are bounded here (CONTRACT §2): text (CSV, JSON lines, gzip or not) is
decompressed and read as a stream, a block at a time, with a limit on every line (1 MiB)
and on the whole content (`validation.max_file_bytes`); a path is always literal (files
are opened by this module and handed to Polars as bytes or an open file, never as a name
it could expand as a glob pattern); a symbolic link is never followed. An object of a landing
zone on object storage is fetched whole, once, and read from memory (open_landing).
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import stat
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from core import reference as ref
from core.lake import landing_connection
from pipelines.discover import FORMATS, LandingFile

GZIP_MAGIC = b"\x1f\x8b"

LINE_LIMIT = 1 << 20  # bytes on one line of a text file, its newline not counted

BLOCK_BYTES = 32 << 20  # decompressed bytes parsed by Polars at a time

HASH_BLOCK_BYTES = 1 << 20  # bytes hashed at a time (a block that stays in the CPU's cache)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# The columns of each stream (CONTRACT §2); any other column of a file is unknown.
COLUMNS = {
    "engagement": ref.COMMON_COLUMNS + ref.ENGAGEMENT_COLUMNS,
    "referral": ref.COMMON_COLUMNS + ref.REFERRAL_COLUMNS,
    "safety": ref.COMMON_COLUMNS + ref.SAFETY_COLUMNS,
}


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is our own words, never file content."""


class UnusableContent(UnreadableFile):
    """Found before any row is read (empty, over a limit): the file is unreadable, and named
    by `sha256`, the SHA-256 of its bytes as they are on disk."""

    def __init__(self, reason: str, sha256: str) -> None:
        super().__init__(reason)
        self.sha256 = sha256


def open_landing(f: LandingFile) -> BinaryIO:
    """The file itself, never what a link put in its place since discovery; for an object on
    object storage its content, fetched once (the hash and the read share it)."""
    if f.url is not None:
        return io.BytesIO(_object_content(f))
    try:
        fd = os.open(f.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:  # it became a symbolic link
            raise UnreadableFile("replaced by a symbolic link since it was found; not followed") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnreadableFile("not a regular file")
    return os.fdopen(fd, "rb")


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:,} bytes"


class _LineTooLong(UnreadableFile):
    """A line over LINE_LIMIT, starting `offset` bytes into the (decompressed) content."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"a line is longer than {_size(LINE_LIMIT)}")
        self.offset = offset


def _line_too_long(f: LandingFile, offset: int) -> str:
    """The reason for a line over the limit, with its number (newlines counted only now, on
    this rare path: counting them on every read costs more than checking the lengths)."""
    lines = 1
    with open_landing(f) as fh:
        source = gzip.GzipFile(fileobj=fh, mode="rb") if f.compressed else fh
        while offset > 0 and (block := source.read(min(offset, HASH_BLOCK_BYTES))):
            lines += block.count(b"\n")
            offset -= len(block)
    return f"line {lines} is longer than {_size(LINE_LIMIT)}"


class _Blocks:
    """The content of an open file a block at a time (decompressed for .gz), holding it to
    the file limit (UnreadableFile) and the line limit (_LineTooLong)."""

    def __init__(self, fh: BinaryIO, compressed: bool, max_bytes: int | None, block_bytes: int = BLOCK_BYTES) -> None:
        self.source: BinaryIO = gzip.GzipFile(fileobj=fh, mode="rb") if compressed else fh  # type: ignore[assignment]
        self.compressed, self.max_bytes, self.block_bytes = compressed, max_bytes, block_bytes
        self.total = 0  # bytes of content so far
        self._run = 0  # bytes of the line still open at the end of the last block

    def __iter__(self) -> Iterator[bytes]:
        while block := self.source.read(self.block_bytes):
            self.total += len(block)
            if self.max_bytes is not None and self.total > self.max_bytes:
                what = "decompressed size" if self.compressed else "size"
                raise UnreadableFile(f"{what} over validation.max_file_bytes ({_size(self.max_bytes)})")
            self._check(block)
            yield block

    def _check(self, block: bytes) -> None:
        """Every line at most LINE_LIMIT bytes, in a few C-speed searches per MiB (a jump
        from one line start to the last newline within the limit, not a visit per line)."""
        n = len(block)
        start = self.total - n  # offset of the block in the content
        first = block.find(b"\n", 0, LINE_LIMIT - self._run + 1)
        if first < 0:
            if self._run + n > LINE_LIMIT:
                raise _LineTooLong(start - self._run)
            self._run += n
            return
        p = first + 1
        while n - p > LINE_LIMIT:
            q = block.rfind(b"\n", p, p + LINE_LIMIT + 1)
            if q < 0:
                raise _LineTooLong(start + p)
            p = q + 1
        self._run = n - block.rfind(b"\n") - 1


def _raw_sha256(f: LandingFile) -> str:
    h = hashlib.sha256()
    with open_landing(f) as fh:
        while block := fh.read(HASH_BLOCK_BYTES):
            h.update(block)
    return h.hexdigest()


def content_sha256(f: LandingFile) -> str:
    """SHA-256 of the content (of the decompressed bytes for .gz), read in blocks of bounded
    size. Raises UnusableContent (with the SHA-256 of the bytes on disk) for an empty file
    and for one over a line or file limit, so it is recorded unreadable before any row is read.
    A .gz that is not gzip, or cut short, is named by its bytes on disk (the reader says why)."""
    if f.size == 0:
        raise UnusableContent("empty file (0 bytes)", EMPTY_SHA256)
    if f.url is not None and f.size > f.max_bytes:  # never fetched: named by where and what it is
        name = hashlib.sha256(f"{f.url}\0{f.size}\0{f.mtime_ns}".encode()).hexdigest()
        raise UnusableContent(f"size over validation.max_file_bytes ({_size(f.max_bytes)})", name)
    fmt = f.format
    if fmt == "parquet" or fmt is None:
        if f.size > f.max_bytes:
            raise UnusableContent(f"size over validation.max_file_bytes ({_size(f.max_bytes)})", _raw_sha256(f))
        sha = _raw_sha256(f)
        if fmt == "parquet" and (size := _parquet_data_bytes(f)) is not None and size > f.max_bytes:
            raise UnusableContent(f"uncompressed size over validation.max_file_bytes ({_size(f.max_bytes)})", sha)
        return sha
    h = hashlib.sha256()
    with open_landing(f) as fh:
        if f.compressed and fh.read(2) != GZIP_MAGIC:
            return _raw_sha256(f)
        fh.seek(0)
        blocks = _Blocks(fh, f.compressed, f.max_bytes, HASH_BLOCK_BYTES)
        try:
            for block in blocks:
                h.update(block)
        except _LineTooLong as e:
            raise UnusableContent(_line_too_long(f, e.offset), _raw_sha256(f)) from None
        except UnreadableFile as e:  # the file limit
            raise UnusableContent(str(e), _raw_sha256(f)) from None
        except (OSError, EOFError, zlib.error):  # not gzip or cut short: the raw bytes name it
            return _raw_sha256(f)
    if blocks.total == 0:
        raise UnusableContent("empty file (0 bytes after decompression)", _raw_sha256(f))
    return h.hexdigest()


def _parquet_data_bytes(f: LandingFile) -> int | None:
    """The uncompressed size of a Parquet file's data, from its footer (None if unreadable)."""
    try:
        with open_landing(f) as fh:
            meta = pq.read_metadata(fh)
    except (pa.ArrowException, OSError, ValueError):
        return None
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


_fetched: dict[tuple[str, int, int], bytes] = {}  # the last object read (open_landing): one at a time


def _landing_root(f: LandingFile) -> str:
    assert f.url is not None
    return f.url.removesuffix(f.rel)


def _object_content(f: LandingFile) -> bytes:
    """The object's bytes (at most validation.max_file_bytes: content_sha256 refused a bigger
    one unread); FileNotFoundError when it is gone since discovery."""
    assert f.url is not None
    key = (f.url, f.size, f.mtime_ns)
    if key not in _fetched:
        con = landing_connection(_landing_root(f))
        try:
            row = con.execute("select content from read_blob($url)", {"url": f.url}).fetchone()
        except duckdb.IOException:
            row = None
        finally:
            con.close()
        if row is None:
            raise FileNotFoundError(f.rel)
        _fetched.clear()
        _fetched[key] = row[0]
    return _fetched[key]


def _object_unchanged(f: LandingFile) -> bool:
    con = landing_connection(_landing_root(f))
    try:
        rows = con.execute("select size, last_modified from read_blob($url)", {"url": f.url}).fetchall()
    except duckdb.IOException:
        return False
    finally:
        con.close()
    return len(rows) == 1 and (rows[0][0], int(rows[0][1].timestamp() * 1e9)) == (f.size, f.mtime_ns)


def unchanged_since_discovery(f: LandingFile) -> bool:
    """False when the file grew or was rewritten while we read it: it waits for the next run."""
    if f.url is not None:
        return _object_unchanged(f)
    try:
        st = f.path.lstat()
    except FileNotFoundError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns) == (f.size, f.mtime_ns)


def iter_rows(f: LandingFile, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The file in chunks of at most `chunk_rows` rows, streamed from disk: all columns as
    text with lower-case names, plus `_line` (1-based, as a person counts: a CSV header is
    line 1). JSON lines come as one `_json` text column. Blank lines are not rows. Raises
    UnreadableFile, possibly after some chunks (a damaged row group)."""
    fmt = f.format
    if fmt is None:
        raise UnreadableFile(f"unsupported file type; accepted: {', '.join(FORMATS)}")
    with open_landing(f) as fh:
        if f.compressed and fh.read(2) != GZIP_MAGIC:
            raise UnreadableFile("not a valid gzip file")
        fh.seek(0)
        if fmt == "parquet":
            yield from _parquet_chunks(fh, f.stream, chunk_rows)
            return
        try:
            yield from _text_chunks(fh, f, fmt, chunk_rows)
        except _LineTooLong as e:  # only when the file changed since it was hashed
            raise UnreadableFile(_line_too_long(f, e.offset)) from None
        except UnreadableFile:
            raise
        except (pl.exceptions.PolarsError, OSError, ValueError, EOFError, zlib.error) as e:
            raise UnreadableFile(_reason(fmt, e, f.compressed)) from None


def _text_chunks(fh: BinaryIO, f: LandingFile, fmt: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """CSV or JSON lines, decompressed a block at a time, cut at the last row boundary of
    each block (for CSV, a newline outside quotes) and parsed by Polars from bytes: memory
    holds one block and one chunk, whatever the file's size or compression ratio."""
    csv = fmt == "csv"
    blocks = _Blocks(fh, f.compressed, None)
    header = b""
    carry = b""
    rows_before = 0
    pending: list[pl.DataFrame] = []
    pending_rows = 0
    yielded = False

    def parse_segment(body: bytes) -> pl.DataFrame | None:
        nonlocal rows_before
        try:
            if csv:
                df = pl.read_csv(io.BytesIO(header + body), infer_schema=False, encoding="utf8")
            else:
                df = pl.read_csv(
                    io.BytesIO(body),
                    has_header=False,
                    separator="\x1f",
                    quote_char=None,
                    new_columns=["_json"],
                    infer_schema=False,
                    encoding="utf8",
                )
        except pl.exceptions.NoDataError:  # nothing but blank lines: each one is a row
            rows_before += body.count(b"\n")
            return None
        if csv:
            df = df.rename({c: _unreserved(c) for c in df.columns})
        df = df.with_row_index("_line", offset=rows_before)
        rows_before += df.height
        return _tidy(df, 2 if csv else 1)

    def parse(body: bytes) -> pl.DataFrame | None:
        """Rows of whole records; long runs of blank lines are counted, not parsed (Polars
        makes a row of each, and a gzip of 1 GiB of newlines would be a billion of them)."""
        nonlocal rows_before
        frames = []
        for segment, blanks in _blank_runs(body, csv):
            if segment and (df := parse_segment(segment)) is not None and df.height:
                frames.append(df)
            rows_before += blanks
        return pl.concat(frames) if len(frames) > 1 else (frames[0] if frames else None)

    def flush(final: bool) -> Iterator[pl.DataFrame]:
        nonlocal pending, pending_rows, yielded
        while pending and (pending_rows >= chunk_rows or final):
            df = pl.concat(pending) if len(pending) > 1 else pending[0]
            head, rest = df.head(chunk_rows), df.slice(chunk_rows)
            yielded = True
            yield head
            pending, pending_rows = ([rest] if rest.height else []), rest.height

    for block in blocks:
        buf = carry + block
        if csv and not header:
            end = _header_end(buf)
            if end is None:
                carry = _bounded(buf, blocks.total)
                continue
            header, buf = buf[: end + 1], buf[end + 1 :]
        end = _record_end(buf, csv)
        if end is None:
            carry = _bounded(buf, blocks.total)
            continue
        body, carry = buf[: end + 1], _bounded(buf[end + 1 :], blocks.total)
        if (df := parse(body)) is not None and df.height:
            pending.append(df)
            pending_rows += df.height
            yield from flush(final=False)
    if csv and not header:
        header, carry = carry, b""  # a header without a newline, or nothing at all
    if carry.strip() and (df := parse(carry)) is not None and df.height:
        pending.append(df)
        pending_rows += df.height
    yield from flush(final=True)
    if not yielded and csv and header.strip() and (df := parse_segment(b"")) is not None:
        yield df  # a header alone: no rows, but its columns


def _header_end(buf: bytes) -> int | None:
    """Index of the newline that ends a CSV's header row (the first one outside quotes)."""
    pos, odd = 0, 0
    while (end := buf.find(b"\n", pos)) >= 0:
        odd ^= buf.count(b'"', pos, end) % 2
        if not odd:
            return end
        pos = end + 1
    return None


BLANK_RUNS = (b"\n" * 2048, b"\r\n" * 1024)  # 2,048 or 1,024 blank lines in a row: counted, not parsed


def _runs(body: bytes) -> Iterator[tuple[int, int]]:
    """Start and end of each long run of blank lines, found by plain byte searches (C speed;
    a regular expression tried at every newline costs more than parsing the rows)."""
    pos = 0
    while True:
        found = [(i, unit) for unit in BLANK_RUNS if (i := body.find(unit, pos)) >= 0]
        if not found:
            return
        start, unit = min(found)
        step = len(unit) // 1024 if unit.startswith(b"\r") else 1
        end = start + len(unit)
        while body.startswith(unit, end):
            end += len(unit)
        while body.startswith(unit[:step], end):
            end += step
        yield start, end
        pos = end


def _blank_runs(body: bytes, csv: bool) -> Iterator[tuple[bytes, int]]:
    """`body` (whole records) as segments without its long runs of blank lines: each segment
    with the number of blank lines that follow it (a run inside a quoted CSV field stays)."""
    start, checked, odd = 0, 0, 0
    for s, e in _runs(body):
        if csv:
            odd ^= body.count(b'"', checked, s) % 2
            checked = e
            if odd:
                continue
        # the run's first line end closes the line before it, unless the segment starts with it
        first = 2 if body[s : s + 1] == b"\r" else 1
        cut = s + first if s > start else s
        yield body[start:cut], body.count(b"\n", cut, e)
        start = e
    yield body[start:], 0


def _record_end(buf: bytes, csv: bool) -> int | None:
    """Index of the last newline of `buf` that ends a row (for CSV, one outside quotes:
    `buf` starts at a row's start, so a newline is inside quotes when an odd number of
    quote characters come before it); None when `buf` holds no whole row."""
    end = buf.rfind(b"\n")
    if end < 0 or not csv or buf.find(b'"') < 0:
        return None if end < 0 else end
    odd = buf.count(b'"', 0, end) % 2
    while odd:
        before = buf.rfind(b"\n", 0, end)
        if before < 0:
            return None
        odd ^= buf.count(b'"', before, end) % 2
        end = before
    return end


def _bounded(rest: bytes, read: int) -> bytes:
    """The start of a row carried to the next block (`read` bytes of content so far); a row
    can be no longer than a line (a quoted field left open would otherwise take the file)."""
    if len(rest) > LINE_LIMIT:
        raise _LineTooLong(read - len(rest))
    return rest


def first_filled(values: list[pl.Expr]) -> pl.Expr:
    """One field from several spellings of its name (`user_id`, `USER_ID`), row by row: the
    first that is not blank, in the order given; one spelling is taken as it is."""
    if len(values) == 1:
        return values[0]
    return pl.coalesce([pl.when(v.str.strip_chars(" ") != "").then(v) for v in values])


def spelling_order(name: str, spellings: list[str]) -> list[str]:
    """The lower-case spelling of a column name first, then the others sorted."""
    return sorted(spellings, key=lambda s: (s != name, s))


# Columns the refresh adds to a file's rows; a file's own column of one of these names (any
# case or spacing) is kept as an unknown column under another name, never mistaken for them.
RESERVED = ("_line", "_malformed", "_json")


def _unreserved(name: str) -> str:
    """A file's column name, or for a reserved one the name it is reported by (in the file's
    own spelling: `_line` and `_LINE` in one file stay two columns)."""
    return f"{name.strip()} (a name the refresh reserves)" if name.strip().lower() in RESERVED else name


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
    if compressed and (
        isinstance(error, OSError | EOFError | zlib.error) or any(w in text for w in ("gzip", "deflate"))
    ):
        return "not a valid gzip file (truncated or corrupt)"
    if "utf-8" in text or "utf8" in text or "invalid unicode" in text:
        return "not UTF-8 text"
    if fmt == "csv":
        return "not a readable CSV file (ragged rows or broken quoting)"
    return "not readable as JSON lines"


def _parquet_chunks(fh: BinaryIO, stream: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Polars' own (multi-threaded) Parquet reader, one slice of rows at a time in file order.
    A slice decodes only the row groups it needs; streaming batches instead reads the whole
    file ahead of the caller (2 GB held for a 10M-row file). Only the contract's columns are
    read: an unknown column of any type comes as an empty text column (reported as unknown
    by the caller); a known one of a type that cannot be text (binary, map) is named."""
    try:
        schema = pq.read_schema(fh)
    except (pa.ArrowException, OSError, ValueError):
        raise UnreadableFile("not a readable Parquet file (truncated or another format)") from None
    known: list[str] = []
    unknown: dict[str, None] = {}
    for column in schema:
        name = column.name.strip().lower()
        if name not in COLUMNS[stream]:
            unknown[_unreserved(column.name).strip().lower()] = None
        elif kind := _unusable(column.type):
            raise UnreadableFile(f"column {name}: {kind}, not text, a number or a timestamp")
        else:
            known.append(column.name)
    fh.seek(0)
    try:
        scan = pl.scan_parquet(fh).select(known).with_row_index("_line")
        total = scan.select(pl.len()).collect().item()
        empty = [pl.lit(None, dtype=pl.String).alias(name) for name in unknown]
        if total == 0:
            yield _tidy(_as_text(scan.collect()).with_columns(empty), 1)
        for offset in range(0, total, chunk_rows):
            yield _tidy(_as_text(scan.slice(offset, chunk_rows).collect()).with_columns(empty), 1)
    except (pa.ArrowException, OSError, ValueError, pl.exceptions.PolarsError):
        raise UnreadableFile("not a readable Parquet file (truncated or another format)") from None


def _unusable(t: pa.DataType) -> str | None:
    """What makes a Parquet column's type unusable as text, or None when it can be read."""
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if getattr(pa.types, "is_binary_view", lambda _: False)(t):
        return "binary"
    if pa.types.is_map(t):
        return "map"
    if pa.types.is_union(t):
        return "union"
    if pa.types.is_dictionary(t):
        return _unusable(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = _unusable(t.value_type)
        return f"list of {inner}" if inner else None
    if pa.types.is_struct(t):
        inner = next((k for k in (_unusable(t.field(i).type) for i in range(t.num_fields)) if k), None)
        return f"struct with {inner}" if inner else None
    return None


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
