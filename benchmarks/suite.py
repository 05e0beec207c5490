"""`pulse bench`: every benchmark in one run, one table, one JSON file.

Sections (see each module): full load against DuckDB and Polars (benchmarks.refresh),
incremental and the scaling curve, replay, dashboard queries and first render
(benchmarks.pages), Prefect's fixed start-up in both modes (benchmarks.prefect_startup).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import alerts as alerts_bench
from benchmarks import pages, prefect_startup, scale_out
from benchmarks import refresh as rb

DEFAULT_ROWS = 1_000_000
EVENTS_PER_DEMO_SCALE = 100_000  # pulse demo-data --scale 1 is about 100,000 events


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(
    rows: int = DEFAULT_ROWS,
    *,
    browser: bool = True,
    prefect: bool = True,
    work: Path | None = None,
    lake_up_to: int | None = None,
) -> dict:
    """Every section at this many engagement rows (the incremental refresh on lakes up to
    lake_up_to events, when larger); returns the figures."""
    started = time.perf_counter()
    result: dict[str, Any] = {"rows": rows, "lake_up_to": max(rows, lake_up_to or rows), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="pulse-bench-", dir=work) as tmp:
        root = Path(tmp)
        result["full_load"], d = rb.full_load(root, rows)
        result["scaling"] = rb.scaling(root, rows, result["full_load"]["parquet"], d, lake_up_to)
        result["replay_s"] = rb.replay(d)
        result["alerts_detect"] = alerts_bench.detection(d)  # per refresh, on the full load's snapshot
        if prefect:
            result["prefect"] = prefect_startup.run(root / "prefect", d.root)
        (root / "pages").mkdir()
        result["pages"] = pages.run(rows / EVENTS_PER_DEMO_SCALE, browser, root / "pages")
    result["total_s"] = round(time.perf_counter() - started, 1)
    return result


def run_scale_out(rows: int = DEFAULT_ROWS, *, work: Path | None = None) -> dict:
    """`pulse bench --scale-out`: only the loads of the same landing files (benchmarks.scale_out)."""
    started = time.perf_counter()
    result: dict[str, Any] = {"rows": rows, "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="pulse-bench-scale-out-", dir=work) as tmp:
        result["scale_out"] = scale_out.run(rows, Path(tmp))
    result["total_s"] = round(time.perf_counter() - started, 1)
    return result


def _machine_line(r: dict[str, Any]) -> str:
    m = r["machine"]
    return (
        f"pulse bench: {r['rows']:,} engagement rows; {m['cpus']} CPUs, {m['memory_gb']} GB, "
        f"load average at start {m['load_average_at_start'][0]}; each contender in its own process"
    )


def report_scale_out(r: dict[str, Any]) -> str:
    return "\n".join([_machine_line(r), "", scale_out.report(r["scale_out"]), "", f"total {r['total_s']} s"])


def report(r: dict[str, Any]) -> str:
    lines = [
        _machine_line(r),
        "",
        "Full load (whole refresh: validate, hash, dedupe, marts, publish) vs bare reads of the same file",
        f"  {'format':<8}{'MB':>7}{'DuckDB s':>10}{'Polars s':>10}{'ours s':>9}{'/DuckDB':>9}{'/Polars':>9}"
        f"{'rows/s':>11}{'RSS GB':>8}{'DuckDB RSS':>12}",
    ]
    for ext, f in r["full_load"].items():
        lines.append(
            f"  {ext:<8}{f['file_mb']:>7}{f['duckdb_s']:>10.2f}{f['polars_s']:>10.2f}{f['ours_s']:>9.2f}"
            f"{f['ratio_to_duckdb']:>8.2f}x{f['ratio_to_polars']:>8.2f}x{f['ours_rows_per_s']:>11,}"
            f"{f['ours_peak_rss_gb']:>8.2f}{f['duckdb_peak_rss_gb']:>12.2f}"
        )
        if "duckdb_lake_s" in f:
            lines.append(
                f"  {'':<8}{'':>7} DuckDB bare into a DuckLake table {f['duckdb_lake_s']:.2f} s: "
                f"ours {f['ratio_to_duckdb_lake']:.2f}x"
            )
    lines += [
        "",
        "Scaling (Parquet) and incremental (one new 10,000-row file on top)",
        f"  {'rows':>12}{'full load s':>13}{'lake MB':>9}{'incremental s':>15}{'(call s)':>10}{'inc/full':>10}"
        f"{'inc/first':>11}{'written MB':>12}{'/brought':>10}",
    ]
    for p in r["scaling"]:
        i = p["incremental"]
        lines.append(
            f"  {p['rows']:>12,}{p['full_load_s']:>13.2f}{p['warehouse_mb']:>9}{i['s']:>15.2f}{i['refresh_call_s']:>10.2f}"
            f"{p['incremental_to_full_load']:>10.3f}{p['incremental_to_first']:>10.2f}x"
            f"{i['written_mb']:>12.2f}{i['written_per_byte_brought']:>9.1f}x"
        )
    lines += [
        "  hourly (the same people, 96% on the last day, 3% late, 1% re-sent), after the above:",
        f"  {'rows':>12}{'incremental s':>28}{'(call s)':>10}{'written MB':>33}{'/brought':>10}",
    ]
    for p in r["scaling"]:
        h = p["incremental"]["hourly"]
        lines.append(
            f"  {p['rows']:>12,}{h['s']:>28.2f}{h['refresh_call_s']:>10.2f}{h['written_mb']:>33.2f}"
            f"{h['written_per_byte_brought']:>9.1f}x"
        )
    lines.append(
        "  incremental s: the fresh process's whole run; call s: the refresh() call alone (without importing"
        " the product; with loading DuckDB's extensions)"
    )
    lines.append(f"  replay (everything already seen): {r['replay_s']:.2f} s")
    if "alerts_detect" in r:
        a = r["alerts_detect"]
        lines.append(
            f"  alert detection per refresh: {a['median_ms']:.0f} ms median ({a['max_ms']:.0f} max) on {a['events']:,} events"
        )
    if "prefect" in r:
        lines += ["", "Prefect fixed start-up, fresh process (flow that does nothing / `pulse refresh`, nothing new)"]
        for mode, v in r["prefect"].items():
            extra = (
                f"; server healthy after {v['server_healthy_after_s']:.1f} s" if "server_healthy_after_s" in v else ""
            )
            lines.append(
                f"  {mode:<10} trivial flow {v['trivial_flow_s']:.2f} s, pulse refresh {v['pulse_refresh_nothing_new_s']:.2f} s "
                f"(ours beyond Prefect {v['ours_beyond_prefect_s']:+.2f} s){extra}"
            )
    lines += ["", pages.report(r["pages"]), "", f"total {r['total_s']} s"]
    return "\n".join(lines)
