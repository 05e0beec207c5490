"""Benchmark (issue 16, stage 1): the DuckLake prototype against today's snapshot files.

    .venv/bin/python -m benchmarks.lake --scale 10 [--json FILE]

For each warehouse kind (`files`: copy the published .duckdb and add the load; `lake`:
PULSE_WAREHOUSE_FORMAT=lake, one DuckLake commit), on the same demo landing zone (scale 10 is
about 1M events): the full refresh, then one new 10,000-row engagement file refreshed on top,
each in a fresh process (benchmarks.measure) with the bytes that process wrote (/proc/self/io
write_bytes: the snapshot copy, WAL, Parquet files, catalog, temp files), then the disk the
warehouse uses; then every page's queries (benchmarks.pages, a new reader per run as the
dashboard makes, 9 runs, median), and one mart query (`daily_trend`) 15 times on one warm
connection.
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
KINDS = ("files", "lake")
PAGE_READERS = {"files": ("files",), "lake": ("lake", "lake-cache")}


def _env(kind: str) -> None:
    os.environ["PULSE_HMAC_KEY"] = BENCH_KEY
    os.environ["PULSE_LAKE_CACHE"] = "1" if kind == "lake-cache" else "0"
    if kind.startswith("lake"):
        os.environ["PULSE_WAREHOUSE_FORMAT"] = "lake"
    else:
        os.environ.pop("PULSE_WAREHOUSE_FORMAT", None)


def _written_bytes() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("write_bytes"))


def refresh_in(kind: str, data_dir: str) -> dict[str, Any]:
    _env(kind)
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


def pages_in(kind: str, data_dir: str) -> dict[str, Any]:
    _env(kind)
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

    result: dict[str, Any] = {"scale": scale}
    with tempfile.TemporaryDirectory(prefix="pulse-bench-lake-", dir=work) as tmp:
        src = DataDir(Path(tmp) / "src").ensure()
        write_demo_data(Settings(), src, DemoSpec(days=60, scale=scale, seed=1, end=END))
        increment = Path(tmp) / "increment.parquet"
        measured(write_engagement_files, INCREMENT_ROWS, [increment], 2)
        for kind in KINDS:
            d = DataDir(Path(tmp) / kind).ensure()
            shutil.copytree(src.landing, d.landing, dirs_exist_ok=True)
            full = measured(refresh_in, kind, str(d.root))
            shutil.copy(increment, d.stream_landing("engagement") / "increment.parquet")
            inc = measured(refresh_in, kind, str(d.root))
            store = d.root / "lake" if kind == "lake" else d.warehouse
            result[kind] = {
                "events": full.value["loaded"],
                "full_refresh_s": round(full.seconds, 2),
                "full_written_mb": round(full.value["written_bytes"] / 1e6, 1),
                "increment_rows": inc.value["read"],
                "incremental_s": round(inc.seconds, 2),
                "incremental_written_mb": round(inc.value["written_bytes"] / 1e6, 1),
                "incremental_timings": inc.value["timings"],
                "disk_mb": disk_mb(store),
                "snapshot_id": inc.value["snapshot_id"],
            }
            for reader in PAGE_READERS[kind]:
                result[kind][f"pages_median_ms_{reader}"] = measured(pages_in, reader, str(d.root)).value
        increment_mb = increment.stat().st_size / 1e6
        result["increment_file_mb"] = round(increment_mb, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo-data scale (10 is about 1M events)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    r = run(args.scale)
    print(json.dumps(r, indent=2))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
