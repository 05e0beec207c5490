"""Cost of the alert detection per refresh (pipelines/alerts.py, pipelines/sql/alerts_detect.sql):
the one SQL statement over the marts, on a published snapshot, median of a few runs.

Standalone: `.venv/bin/python -m benchmarks.alerts --scale 5` (demo data at that scale, about
100,000 events per unit of scale, in a temporary folder)."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from core.datadir import DataDir
from core.settings import Settings
from pipelines.alerts import detect
from queries.warehouse import open_published


def detection(d: DataDir, settings: Settings | None = None, repeats: int = 5) -> dict[str, Any]:
    """Median and max milliseconds of the detection on the published snapshot of `d`."""
    settings = settings or Settings()
    con = open_published(d)
    try:
        (last,) = con.sql("select max(day) from mart_totals_daily").fetchall()[0]
        now = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(12), settings.tz)
        times, found = [], 0
        for _ in range(repeats):
            t = time.perf_counter()
            unusual, _ = detect(con, settings, now)
            times.append((time.perf_counter() - t) * 1000)
            found = len(unusual)
        events = sum(
            con.sql(f"select count(*) from {s}_events").fetchall()[0][0] for s in ("engagement", "referral", "safety")
        )
    finally:
        con.close()
    return {"events": events, "median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
            "unusual_days": found}  # fmt: skip


def main() -> None:
    from pipelines.demo_data import DemoSpec, write_demo_data
    from pipelines.refresh import refresh

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--days", type=int, default=60)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="pulse-bench-alerts-") as tmp:
        d = DataDir(Path(tmp)).ensure()
        s = Settings()
        write_demo_data(s, d, DemoSpec(days=a.days, scale=a.scale, seed=1, end=dt.date(2026, 11, 30)))
        refresh(s, d, settle_seconds=0)
        print(detection(d, s))


if __name__ == "__main__":
    main()
