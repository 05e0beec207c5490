"""user_id -> user_key: the keyed hash that replaces a user id at load (CONTRACT §4).

HMAC-SHA-256(key, user_id), computed once per distinct id of a chunk by polars-hash
(native code using the CPU's SHA instructions, on every core: 0.21 s for the 790,000
distinct ids of a 1M-row benchmark chunk, where DuckDB's `sha256` composed in SQL took
0.57 s), kept as its first 128 bits (RFC 2104 allows truncation to half the output or
more). The halves travel as two UInt64 columns, because Arrow has no 128-bit integer;
landing_rows.sql joins them back as one UHUGEINT.
"""

from __future__ import annotations

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)

RAW_ID = "raw_id"


def raw_user_id(column: str = "user_id") -> pl.Expr:
    """The id as it is keyed: without surrounding spaces (as DuckDB's trim), NULL when blank."""
    trimmed = pl.col(column).str.strip_chars(" ")
    return pl.when(trimmed != "").then(trimmed)


def keyed_user_ids(rows: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """The distinct non-blank user ids of `rows` (raw_id) with their keys (key_hi, key_lo)."""
    digest = pl.col(RAW_ID).chash.hmac_sha256(key=key.decode("utf-8"))  # hex of 32 bytes
    return (
        rows.lazy()
        .select(raw_user_id().alias(RAW_ID).unique())
        .drop_nulls()
        .with_columns(
            key_hi=digest.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64),
            key_lo=digest.str.slice(16, 16).str.to_integer(base=16, dtype=pl.UInt64),
        )
        .collect(engine="streaming")
    )
