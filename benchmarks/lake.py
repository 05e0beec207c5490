"""Benchmark (issue 16): what a refresh of the lake costs, by the warehouse's size.

    .venv/bin/python -m benchmarks.lake --scale 10 [100 300] [--json FILE]

For each demo-data scale (10 is about 1M events, 100 about 10M, 300 about 30M): the full
refresh, then one new 10,000-row engagement Parquet file refreshed on top, each in a fresh
process (benchmarks.measure) with the bytes that process wrote (/proc/self/io write_bytes:
Parquet files, catalog, temp files) against the bytes the file brought, the disk the lake
uses, and every page's queries (benchmarks.pages, a new reader per run as the dashboard
makes, 9 runs, median) and one mart query (`daily_trend`) 15 times on one warm connection.
The incremental refresh's time at each scale is also given as a ratio to the first scale's,
measured in the same run (the issue's target: 30M within 1.5x of 1M).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import measured
from benchmarks.refresh import BENCH_KEY, INCREMENT_ROWS, write_engagement_files

END = dt.date(2026, 11, 24)


def _written_bytes() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("write_bytes"))


def refresh_in(data_dir: str) -> dict[str, Any]:
    os.environ["PULSE_HMAC_KEY"] = BENCH_KEY
    from pipelines.refresh import run_refresh
    from queries.datadir import DataDir
    from queries.settings import Settings

    before = _written_bytes()
    r = run_refresh(Settings(), DataDir(Path(data_dir)).ensure(), settle_seconds=0)
    os.sync()
    return {
        "snapshot_id": r.snapshot_id,
        "loaded": sum(c.loaded for c in r.streams.values()),
        "read": sum(c.read for c in r.streams.values()),
        "written_bytes": _written_bytes() - before,
        "timings": r.timings,
    }


def pages_in(data_dir: str) -> dict[str, Any]:
    from benchmarks.pages import PAGE_QUERIES, time_queries
    from queries import pages as q
    from queries.datadir import DataDir
    from queries.filters import Filters
    from queries.settings import Settings

    s, d = Settings(), DataDir(Path(data_dir))
    wide = Filters(s.launch, END)
    out: dict[str, Any] = {page: round(time_queries(d, s, wide, page)[0], 1) for page in PAGE_QUERIES}
    runs = []
    with q.reader(d) as con:  # one warm connection
        for _ in range(15):
            started = time.perf_counter()
            q.daily_trend(con, s, wide)
            runs.append((time.perf_counter() - started) * 1000)
    out["daily_trend_warm_median_ms"] = round(statistics.median(runs), 1)
    return out


def disk_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def run(scale: float, work: Path | None = None) -> dict[str, Any]:
    from pipelines.demo_data import DemoSpec, write_demo_data
    from queries.datadir import DataDir
    from queries.settings import Settings

    with tempfile.TemporaryDirectory(prefix="pulse-bench-lake-", dir=work) as tmp:
        d = DataDir(Path(tmp) / "data").ensure()
        write_demo_data(Settings(), d, DemoSpec(days=60, scale=scale, seed=1, end=END))
        increment = Path(tmp) / "increment.parquet"
        measured(write_engagement_files, INCREMENT_ROWS, [increment], 2)
        full = measured(refresh_in, str(d.root))
        shutil.copy(increment, d.stream_landing("engagement") / "increment.parquet")
        inc = measured(refresh_in, str(d.root))
        brought = increment.stat().st_size
        return {
            "scale": scale,
            "events": full.value["loaded"],
            "full_refresh_s": round(full.seconds, 2),
            "full_written_mb": round(full.value["written_bytes"] / 1e6, 1),
            "increment_rows": inc.value["read"],
            "increment_file_mb": round(brought / 1e6, 2),
            "incremental_s": round(inc.seconds, 2),
            "incremental_written_mb": round(inc.value["written_bytes"] / 1e6, 2),
            "written_per_byte_brought": round(inc.value["written_bytes"] / brought, 1),
            "incremental_timings": inc.value["timings"],
            "disk_mb": disk_mb(d.root / "lake"),
            "snapshot_id": inc.value["snapshot_id"],
            "pages_median_ms": measured(pages_in, str(d.root)).value,
        }


def ladder(scales: list[float], work: Path | None = None) -> dict[str, Any]:
    """`run` at each scale, and each incremental refresh's time as a ratio to the first's."""
    runs = [run(scale, work) for scale in scales]
    for r in runs:
        r["incremental_vs_first"] = round(r["incremental_s"] / runs[0]["incremental_s"], 2)
    return {"runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, nargs="+", default=[10.0], help="demo-data scales (10 is about 1M events)"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--work-dir", type=Path, help="where the temporary data dirs go (30M events need ~10 GB)")
    args = parser.parse_args()
    r = ladder(args.scale, args.work_dir)
    print(json.dumps(r, indent=2))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
