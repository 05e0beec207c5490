"""`pulse bench`: the benchmarks, with ratios measured in the same run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core.errors import PulseError


@click.command("bench", epilog="Example: pulse bench --rows 10000000 --lake-up-to 30000000 --json bench.json")
@click.option(
    "--rows",
    type=click.IntRange(1_000, 100_000_000),
    default=1_000_000,
    show_default=True,
    help="Engagement rows of the full load (the dashboard benchmark uses as many events).",
)
@click.option(
    "--lake-up-to",
    type=click.IntRange(1_000, 100_000_000),
    help="Also measure the incremental refresh on lakes of up to this many events (1M, 3M, 10M, 30M and "
    "this), each built by a full load of its own; the full-load comparisons and the pages stay at --rows. "
    "Default: --rows.",
)
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write the figures here."
)
@click.option("--no-browser", is_flag=True, help="Skip the first render of each page in Chromium.")
@click.option("--no-prefect", is_flag=True, help="Skip Prefect's start-up (ephemeral API and a local server).")
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Where the benchmark's temporary files go (default: the system temp dir; 10M rows need about 5 GB).",
)
@click.option(
    "--scale-out",
    is_flag=True,
    help="Only the scale-out comparison: about --rows engagement rows in 9 Parquet files, loaded by `pulse "
    "refresh`, by the same load without Prefect and by the peer (dlt merging into DuckDB, plus the marts in "
    "SQL); the PostgreSQL + S3 loads are listed, not measured yet.",
)
def bench_cmd(
    rows: int,
    lake_up_to: int | None,
    json_path: Path | None,
    no_browser: bool,
    no_prefect: bool,
    work_dir: Path | None,
    scale_out: bool,
) -> None:
    """Run the benchmarks and print ratios measured in the same run.

    Full load of one engagement file (Parquet, CSV, CSV.gz) through the whole refresh against
    DuckDB's bare CREATE TABLE AS and Polars' bare read of the same file; incremental refresh
    and scaling at 1M, 3M, 10M, 30M rows (up to --rows, or --lake-up-to); replay; every dashboard page's queries and
    first browser render; Prefect's fixed start-up, ephemeral and against a local server.
    Works in temporary folders only; the data dir is not touched. The default takes about
    2 minutes on 2 cores; --rows 10000000 about 15.

    With --scale-out, only the comparison of the loads of the same landing files (issue 17),
    each in a fresh process: wall time, peak RSS, rows/s and the ratio to the peer, dlt.
    """
    try:
        from benchmarks import suite
    except ImportError:
        raise PulseError(
            "the benchmarks need a source checkout (benchmarks/ beside pipelines/); run from one"
        ) from None
    if scale_out:
        result = suite.run_scale_out(rows, work=work_dir)
        click.echo(suite.report_scale_out(result))
    else:
        result = suite.run(rows, browser=not no_browser, prefect=not no_prefect, work=work_dir, lake_up_to=lake_up_to)
        click.echo(suite.report(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        click.echo(f"Figures written to {json_path}", err=True)
