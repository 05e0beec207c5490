"""The refresh against DuckDB and Polars reading the same files, in the same run.

- Full load: one engagement file of N rows (realistic demo rows, 0.5% bad, 0.2%
  duplicates) as Parquet, CSV and CSV.gz, each loaded by
    DuckDB bare:  CREATE TABLE t AS SELECT * FROM read_parquet/read_csv(file) into a new .duckdb
                  file, and (Parquet) into a table of a new DuckLake (the warehouse's format),
    Polars bare:  read_parquet(file) / scan_csv(file).collect() into memory,
    ours:         the whole refresh without Prefect (hash the file, read, validate, hash user
                  ids, dedupe, build marts, check and commit one lake snapshot).
- Incremental: one new 10,000-row file on top of an N-row warehouse, for N = 1M, 3M, 10M
  (those not above --rows), with its ratio to that full load and to the first N's incremental,
  the bytes that refresh wrote (/proc/self/io) per byte the file brought, and the lake's disk;
  the full-load times and the lake's sizes at those N are the scaling curve (30M too when
  --rows or --lake-up-to asks for it).
- Replay: the same landing zone once more, everything already seen.
Every contender runs in its own fresh process (see benchmarks.measure).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.measure import measured
from core.datadir import DataDir
from core.settings import Settings

END = dt.date(2026, 11, 24)
FORMATS = ("parquet", "csv", "csv.gz")
LADDER = (1_000_000, 3_000_000, 10_000_000, 30_000_000)
INCREMENT_ROWS = 10_000
BENCH_KEY = "benchmark-key-0123456789abcdef0123456789"


def _engagement_rows(n_rows: int, seed: int, people_of: int | None = None, keep_bad: bool = False) -> tuple[Any, Any]:
    """(rows, calendar): about n_rows realistic engagement rows over 60 days, in landing order,
    with `t` (epoch seconds) kept; the people of a base file of people_of rows (seed 1) if given;
    with keep_bad, `_bad` too (the kind of fault planted in a row, "" for a good one)."""
    from pipelines import demo_data as demo

    settings = Settings()
    scale = n_rows / demo.ENGAGEMENT_PER_SCALE
    cal = demo._Calendar(demo.DemoSpec(60, scale, seed, END), settings)
    people_scale = (people_of or n_rows) / demo.ENGAGEMENT_PER_SCALE
    users = demo._Users.make(
        np.random.default_rng([1 if people_of else seed, 0]), max(1_000, round(30_000 * people_scale))
    )
    rng = np.random.default_rng([seed, 1])
    df, _, _ = demo._plant(rng, demo._engagement(rng, cal, users, settings, scale), "engagement")
    table = (
        df.sort("t")
        .with_columns(demo._time_column("iso_z", settings.timezone))
        .select(
            "event_id",
            "event_time",
            *[c for c in df.columns if not c.startswith("_") and c not in ("t", "event_id")],
            "t",
            *(["_bad"] if keep_bad else []),
        )
    )
    return table, cal


def _write(table: Any, paths: list[Path]) -> None:
    import polars as pl

    from pipelines import demo_data as demo

    for path in paths:
        ext = "".join(path.suffixes).lstrip(".")
        out: pl.DataFrame = table.with_columns(demo._hashtags(ext))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = demo._encode(out, ext)
        if data is None:
            out.write_parquet(path, compression="zstd")
        else:
            path.write_bytes(data)


def write_engagement_files(n_rows: int, paths: list[Path], seed: int = 1) -> None:
    """About n_rows realistic engagement rows, generated once, written in each path's format."""
    table, _ = _engagement_rows(n_rows, seed)
    _write(table.drop("t"), paths)


def _recent_first(rng: np.random.Generator, t: np.ndarray, cut: int, n: int) -> np.ndarray:
    """n row indices of t (epoch seconds before cut), the later the likelier: a late event is
    most often hours late, sometimes days (weight halves every day back)."""
    w = np.exp2(-(cut - t) / 86_400)
    return rng.choice(len(t), size=n, replace=False, p=w / w.sum())


def write_hourly_increment(base: Path, base_rows: int, path: Path, seed: int, n_rows: int = INCREMENT_ROWS) -> None:
    """n_rows as an hourly refresh brings them on top of the base file's warehouse: the same
    people (so most are returning ones, some in another province than before), 96% on the last
    day, 3% late (from the days before, the later the likelier), 1% re-sent (rows of the base file again, same
    event_id: duplicates to drop)."""
    import polars as pl

    from pipelines import demo_data as demo

    pool, cal = _engagement_rows(n_rows * 150, seed, people_of=base_rows)  # its last day holds ~1/90 of it
    rng = np.random.default_rng([seed, 2])
    today = pool.filter(pl.col("t") >= int(cal.midnight_utc[-1]))
    earlier = pool.filter(pl.col("t") < int(cal.midnight_utc[-1]))
    n_late, n_resent = round(n_rows * 0.03), round(n_rows * 0.01)
    fresh = pl.concat(
        [
            today.sample(min(today.height, n_rows - n_late - n_resent), seed=int(rng.integers(1 << 31))),
            earlier[_recent_first(rng, earlier["t"].to_numpy(), int(cal.midnight_utc[-1]), n_late)],
        ]
    ).sort("t")
    fresh = fresh.drop("t").with_columns(event_id=pl.format("hourly{}-{}", pl.lit(seed), pl.int_range(pl.len())))
    fresh = fresh.with_columns(demo._hashtags("parquet"))
    resent = pl.read_parquet(base).sample(n_resent, seed=int(rng.integers(1 << 31)))
    pl.concat([fresh, resent.select(fresh.columns)]).write_parquet(path, compression="zstd")


def duckdb_bare_load(source: str, db: str) -> int:
    import duckdb

    reader = "read_parquet" if source.endswith(".parquet") else "read_csv"
    con = duckdb.connect(db)
    con.execute(f"create table t as select * from {reader}($src)", {"src": source})
    n = con.sql("select count(*) from t").fetchall()[0][0]
    con.close()
    return n


def duckdb_bare_lake_load(source: str, root: str) -> int:
    """read_parquet into a table of a new DuckLake (SQLite catalog, Parquet files): the bare
    cost of the warehouse's own format."""
    from core.lake import connect_lake

    d = DataDir(Path(root)).ensure()
    con = connect_lake(Settings(), d)
    con.execute("create table t as select * from read_parquet($src)", {"src": source})
    n = con.sql("select count(*) from t").fetchall()[0][0]
    con.close()
    return n


def polars_bare_read(source: str) -> int:
    import polars as pl

    df = pl.read_parquet(source) if source.endswith(".parquet") else pl.scan_csv(source).collect()
    return df.height


def _written_bytes() -> int:
    """Bytes this process sent to storage: write_bytes less cancelled_write_bytes (dirty pages of
    files removed before they reached the disk: SQLite's WAL, DuckDB's temp files)."""
    with open("/proc/self/io") as f:
        io = {k: int(v) for k, v in (line.split(":") for line in f)}
    return io["write_bytes"] - io["cancelled_write_bytes"]


def our_refresh(data_dir: str) -> dict[str, Any]:
    os.environ.setdefault("PULSE_HMAC_KEY", BENCH_KEY)
    from pipelines.refresh import refresh

    before, started = _written_bytes(), time.perf_counter()
    r = refresh(Settings(), DataDir(Path(data_dir)).ensure(), settle_seconds=0)
    refresh_s = time.perf_counter() - started
    os.sync()  # what it wrote reaches the disk now and is counted
    c = r.streams["engagement"]
    return {
        "read": c.read,
        "loaded": c.loaded,
        "timings": r.timings,
        "refresh_s": refresh_s,  # the call alone: without importing the product into a fresh process
        "written_bytes": _written_bytes() - before,
    }


def warehouse_mb(d: DataDir) -> float:
    """Disk used by the lake: its catalog and every data file (every snapshot kept)."""
    return round(sum(p.stat().st_size for p in (d.root / "lake").rglob("*") if p.is_file()) / 1e6, 1)


def incremental(d: DataDir, seed: int, base_rows: int) -> dict[str, Any]:
    """Two new 10,000-row files refreshed one after the other on top of the warehouse in d
    (built from engagement.parquet, base_rows rows): "spread", rows of other people over the 60
    days (the worst case: every day of every daily mart changes), then "hourly", what an hourly
    refresh brings (write_hourly_increment)."""
    spread = d.stream_landing("engagement") / f"increment-{seed}.parquet"
    measured(write_engagement_files, INCREMENT_ROWS, [spread], seed)
    out = _refreshed(d, spread)
    hourly = d.stream_landing("engagement") / f"hourly-{seed}.parquet"
    measured(write_hourly_increment, d.stream_landing("engagement") / "engagement.parquet", base_rows, hourly, seed)
    out["hourly"] = _refreshed(d, hourly)
    return out


def _refreshed(d: DataDir, path: Path) -> dict[str, Any]:
    m = measured(our_refresh, str(d.root))
    brought = path.stat().st_size
    return {
        "rows": m.value["read"],
        "s": round(m.seconds, 2),
        "refresh_call_s": round(m.value["refresh_s"], 2),
        "peak_rss_gb": round(m.peak_rss_gb, 2),
        "file_mb": round(brought / 1e6, 2),
        "written_mb": round(m.value["written_bytes"] / 1e6, 2),
        "written_per_byte_brought": round(m.value["written_bytes"] / brought, 1),
        "timings": m.value["timings"],
    }


def full_load(root: Path, rows: int) -> tuple[dict[str, Any], DataDir]:
    """Each format against DuckDB and Polars; returns the figures and the Parquet data dir
    (kept for the incremental and replay runs; the others are removed to save disk)."""
    files = {ext: root / "files" / f"engagement.{ext}" for ext in FORMATS}
    measured(write_engagement_files, rows, list(files.values()))  # in a child: keeps this process small
    out: dict[str, Any] = {}
    for ext, source in files.items():
        bare_db = root / f"bare-{ext}.duckdb"
        duck = measured(duckdb_bare_load, str(source), str(bare_db))
        bare_db.unlink(missing_ok=True)
        lake = None
        if ext == "parquet":
            lake = measured(duckdb_bare_lake_load, str(source), str(root / "bare-lake"))
            shutil.rmtree(root / "bare-lake")
        polars = measured(polars_bare_read, str(source))
        d = DataDir(root / f"data-{ext}").ensure()
        shutil.copy(source, d.stream_landing("engagement") / source.name)
        ours = measured(our_refresh, str(d.root))
        n = duck.value
        out[ext] = {
            "file_mb": round(source.stat().st_size / 1e6, 1),
            "rows": n,
            "duckdb_s": round(duck.seconds, 2),
            "duckdb_peak_rss_gb": round(duck.peak_rss_gb, 2),
            "polars_s": round(polars.seconds, 2),
            "polars_peak_rss_gb": round(polars.peak_rss_gb, 2),
            "ours_s": round(ours.seconds, 2),
            "ours_rows_per_s": round(n / ours.seconds),
            "ours_peak_rss_gb": round(ours.peak_rss_gb, 2),
            "ratio_to_duckdb": round(ours.seconds / duck.seconds, 2),
            **(
                {"duckdb_lake_s": round(lake.seconds, 2), "ratio_to_duckdb_lake": round(ours.seconds / lake.seconds, 2)}
                if lake is not None
                else {}
            ),
            "ratio_to_polars": round(ours.seconds / polars.seconds, 2),
            "warehouse_mb": warehouse_mb(d),
            "ours_timings": ours.value["timings"],
        }
        source.unlink()
        if ext != "parquet":
            shutil.rmtree(d.root)
    return out, DataDir(root / "data-parquet")


def scale_points(rows: int, lake_up_to: int | None = None) -> list[int]:
    """1M, 3M, 10M (30M) up to --rows (or --lake-up-to, when larger), and both themselves."""
    top = max(rows, lake_up_to or rows)
    return sorted({n for n in LADDER if n <= top} | {rows, top})


def scaling(
    root: Path, rows: int, headline: dict[str, Any], headline_dir: DataDir, lake_up_to: int | None = None
) -> list[dict[str, Any]]:
    """Full load from Parquet and one incremental file on top, at each scale point (the --rows
    point reuses the headline full load's lake)."""
    points = []
    for n in scale_points(rows, lake_up_to):
        if n == rows:
            full_s, mb, d = headline["ours_s"], headline["warehouse_mb"], headline_dir
        else:
            d = DataDir(root / f"scale-{n}").ensure()
            source = d.stream_landing("engagement") / "engagement.parquet"
            measured(write_engagement_files, n, [source])
            full_s, mb = round(measured(our_refresh, str(d.root)).seconds, 2), warehouse_mb(d)
        inc = incremental(d, seed=2, base_rows=n)
        points.append(
            {"rows": n, "full_load_s": full_s, "warehouse_mb": mb, "incremental": inc,
             "incremental_to_full_load": round(inc["s"] / full_s, 3),
             "incremental_to_first": round(inc["s"] / (points[0]["incremental"]["s"] if points else inc["s"]), 2)}
        )  # fmt: skip
        if d is not headline_dir:
            shutil.rmtree(d.root)
    return points


def replay(d: DataDir) -> float:
    """The same landing zone again: every file already in the ledger."""
    return round(measured(our_refresh, str(d.root)).seconds, 2)
