"""Benchmark: the whole refresh against DuckDB's bare read of the same file, in the same run.

    .venv/bin/python -m benchmarks.refresh --rows 1000000 [--json FILE] [--no-prefect]

For each format (Parquet, CSV, CSV.gz) one engagement file of N rows (realistic demo rows,
0.5% bad, 0.2% duplicates) is
  - loaded by DuckDB itself: CREATE TABLE t AS SELECT * FROM read_parquet/read_csv(file)
    into a new .duckdb file (the reference), and
  - refreshed by us: hash, read as text, validate, hash user ids, dedupe, build marts,
    check and publish a snapshot (no Prefect: its fixed start-up is measured apart).
Each measurement runs in its own process, so peak RSS is that step's own.
Then one new 10,000-row file is refreshed on top of the N-row warehouse (incremental),
and the same landing zone is refreshed again with nothing new (replay).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipelines import demo_data as demo
from queries.datadir import DataDir
from queries.settings import Settings

END = dt.date(2026, 11, 24)


def make_engagement_file(n_rows: int, path: Path, seed: int = 1) -> None:
    """One file of about n_rows realistic engagement rows, in the format its name says."""
    settings = Settings()
    scale = n_rows / demo.ENGAGEMENT_PER_SCALE
    cal = demo._Calendar(demo.DemoSpec(60, scale, seed, END), settings)
    users = demo._Users.make(np.random.default_rng([seed, 0]), max(1_000, round(30_000 * scale)))
    rng = np.random.default_rng([seed, 1])
    df, _, _ = demo._plant(rng, demo._engagement(rng, cal, users, settings, scale), "engagement")
    ext = "".join(path.suffixes).lstrip(".")
    table = (
        df.sort("t")
        .with_columns(demo._time_column("iso_z", settings.timezone))
        .select(
            "event_id", "event_time", *[c for c in df.columns if not c.startswith("_") and c not in ("t", "event_id")]
        )
        .with_columns(demo._hashtags(ext))
    )
    data = demo._encode(table, ext)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        table.write_parquet(path, compression="zstd")
    else:
        path.write_bytes(data)


def peak_rss_gb() -> float:
    """This process's own high-water mark (VmHWM starts afresh at exec; ru_maxrss does not)."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    return kb / 1024**2


def _child(fn: Callable[..., Any], args: tuple, out: mp.Queue) -> None:
    started = time.perf_counter()
    extra = fn(*args)
    seconds = time.perf_counter() - started
    out.put((seconds, peak_rss_gb(), extra))


def measured(fn: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """(seconds, peak RSS in GB, return value) of fn run in a fresh process."""
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, args, q))
    p.start()
    result = q.get()
    p.join()
    return result


def duckdb_bare_load(source: str, db: str) -> int:
    import duckdb

    reader = "read_parquet" if source.endswith(".parquet") else "read_csv"
    con = duckdb.connect(db)
    con.execute(f"create table t as select * from {reader}($src)", {"src": source})
    n = con.sql("select count(*) from t").fetchall()[0][0]
    con.close()
    return n


def our_refresh(data_dir: str) -> dict[str, Any]:
    os.environ.setdefault("PULSE_HMAC_KEY", "benchmark-key-0123456789abcdef0123456789")
    from pipelines.refresh import run_refresh

    r = run_refresh(Settings(), DataDir(Path(data_dir)).ensure(), settle_seconds=0)
    c = r.streams["engagement"]
    return {"read": c.read, "loaded": c.loaded, "timings": r.timings}


def prefect_start_up(data_dir: Path) -> float:
    """Wall time of `pulse refresh` with nothing new: Prefect's fixed cost plus ours."""
    pulse = Path(sys.executable).parent / "pulse"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    started = time.perf_counter()
    subprocess.run(
        [str(pulse), "--data-dir", str(data_dir), "refresh", "--settle", "0"], check=True, capture_output=True, env=env
    )
    return time.perf_counter() - started


def run(rows: int, with_prefect: bool) -> dict[str, Any]:
    results: dict[str, Any] = {"rows": rows, "formats": {}}
    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as tmp:
        root = Path(tmp)
        for ext in ("parquet", "csv", "csv.gz"):
            source = root / "files" / f"engagement.{ext}"
            measured(make_engagement_file, rows, source)  # in a child: keeps this process small
            bare_s, bare_rss, n = measured(duckdb_bare_load, str(source), str(root / f"bare-{ext}.duckdb"))
            d = DataDir(root / f"data-{ext}").ensure()
            shutil.copy(source, d.stream_landing("engagement") / source.name)
            ours_s, ours_rss, info = measured(our_refresh, str(d.root))
            results["formats"][ext] = {
                "file_mb": round(source.stat().st_size / 1e6, 1),
                "rows_in_file": n,
                "duckdb_s": round(bare_s, 2),
                "duckdb_peak_rss_gb": round(bare_rss, 2),
                "ours_s": round(ours_s, 2),
                "ours_rows_per_s": round(n / ours_s),
                "ours_peak_rss_gb": round(ours_rss, 2),
                "ratio": round(ours_s / bare_s, 2),
                "ours_timings": info["timings"],
            }
        d = DataDir(root / "data-parquet")
        measured(make_engagement_file, 10_000, d.stream_landing("engagement") / "increment.parquet", 2)
        inc_s, inc_rss, inc = measured(our_refresh, str(d.root))
        replay_s, _, _ = measured(our_refresh, str(d.root))
        results["incremental"] = {
            "rows": inc["read"],
            "seconds": round(inc_s, 2),
            "peak_rss_gb": round(inc_rss, 2),
            "timings": inc["timings"],
        }
        results["replay_s"] = round(replay_s, 2)
        results["warehouse_mb"] = round(sum(p.stat().st_size for p in d.warehouse.glob("*.duckdb")) / 1e6, 1)
        if with_prefect:
            results["prefect_refresh_nothing_new_s"] = round(prefect_start_up(d.root), 2)
    return results


def report(r: dict[str, Any]) -> str:
    lines = [
        f"refresh of {r['rows']:,} engagement rows (one file per format), each step in its own process",
        f"  {'format':<9}{'MB':>7}{'DuckDB bare s':>15}{'ours s':>9}{'ratio':>8}{'rows/s':>12}{'peak RSS GB':>13}",
    ]
    for ext, f in r["formats"].items():
        lines.append(
            f"  {ext:<9}{f['file_mb']:>7}{f['duckdb_s']:>15.2f}{f['ours_s']:>9.2f}{f['ratio']:>7.2f}x"
            f"{f['ours_rows_per_s']:>12,}{f['ours_peak_rss_gb']:>13.2f}"
        )
    inc = r["incremental"]
    lines.append(
        f"  incremental: {inc['rows']:,} new rows on the {r['rows']:,}-row warehouse in {inc['seconds']:.2f} s "
        f"(peak RSS {inc['peak_rss_gb']:.2f} GB); replay with nothing new: {r['replay_s']:.2f} s"
    )
    lines.append(f"  published warehouse file: {r['warehouse_mb']} MB")
    if "prefect_refresh_nothing_new_s" in r:
        lines.append(
            f"  `pulse refresh` through Prefect's ephemeral API, nothing new: "
            f"{r['prefect_refresh_nothing_new_s']:.2f} s (fixed start-up)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--no-prefect", action="store_true", help="skip timing `pulse refresh` through Prefect")
    args = parser.parse_args()
    r = run(args.rows, not args.no_prefect)
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
