"""Benchmark: how fast `pulse demo-data` writes, against Polars writing the same rows bare.

    .venv/bin/python -m benchmarks.demo_data --scale 100 [--json FILE]

Ours: the whole generator (draw, plant bad rows, format, compress, write every file).
Reference, measured in the same run on the same rows: the files read back into one frame
per stream, then written bare by Polars as one CSV and one Parquet file per stream (no
generation, no formatting, no compression). Prints rows/s, the ratio and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from core.datadir import DataDir
from core.settings import Settings
from pipelines.demo_data import DemoSpec, write_demo_data


def read_landing_file(path: Path) -> pl.DataFrame:
    """Read one landing file as text columns with lower-case names (a test-side reader,
    independent of the pipeline's own, to check what demo-data wrote)."""
    name = path.name.lower()
    raw = path.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
        name = name[:-3]
    if name.endswith(".parquet"):
        df = pl.read_parquet(io.BytesIO(raw))
    elif name.endswith(".csv"):
        df = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    else:
        df = pl.read_ndjson(io.BytesIO(raw), infer_schema_length=None)
    df = df.rename({c: c.lower() for c in df.columns})
    return df.with_columns(
        pl.col(c).list.join(" ") if isinstance(t, pl.List) else pl.col(c).cast(pl.String) for c, t in df.schema.items()
    )


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run(scale: float, days: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pulse-bench-") as tmp:
        d = DataDir(Path(tmp) / "data").ensure()
        started = time.perf_counter()
        manifest = write_demo_data(Settings(), d, DemoSpec(days, scale, 1, dt.date(2026, 11, 24)))
        ours = time.perf_counter() - started
        ours_rss = peak_rss_gb()
        rows = sum(m["rows"] for m in manifest["streams"].values())

        frames = {
            stream: pl.concat(
                [read_landing_file(d.landing / f["path"]) for f in manifest["files"] if f["stream"] == stream],
                how="diagonal",
            )
            for stream in manifest["streams"]
        }
        started = time.perf_counter()
        for stream, df in frames.items():
            df.write_csv(Path(tmp) / f"{stream}.csv")
            df.write_parquet(Path(tmp) / f"{stream}.parquet")
        reference = time.perf_counter() - started
    return {
        "scale": scale,
        "rows": rows,
        "ours_s": round(ours, 2),
        "ours_rows_per_s": round(rows / ours),
        "ours_peak_rss_gb": round(ours_rss, 2),
        "reference_s": round(reference, 2),
        "ratio": round(ours / reference, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo-data scale (1 = about 100,000 events)")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    r = run(args.scale, args.days)
    print(f"demo-data at scale {r['scale']:g}: {r['rows']:,} rows")
    print(f"  {'':<34}{'seconds':>9}{'rows/s':>13}")
    print(f"  {'ours (generate + write all files)':<34}{r['ours_s']:>9.2f}{r['ours_rows_per_s']:>13,}")
    print(f"  {'Polars bare write, same rows':<34}{r['reference_s']:>9.2f}{round(r['rows'] / r['reference_s']):>13,}")
    print(f"  ratio ours / reference: {r['ratio']:.2f}x; peak RSS of ours: {r['ours_peak_rss_gb']:.2f} GB")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
