"""`pulse`: the stable command line of CONTRACT §5.

Errors: a PulseError or a usage mistake becomes one `Error: …` line on stderr and a
non-zero exit (1 for errors, 2 for usage). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from queries.datadir import DATA_DIR_ENV, DataDir
from queries.errors import PulseError
from queries.reference import STREAMS
from queries.settings import CONFIG_ENV, Settings, load_settings

_DATA_DIR_KEY = "pulse.data_dir"
_CONFIG_KEY = "pulse.config"


def _remember(key: str):
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        # The option exists on the group and on every subcommand; the last one given wins.
        if value is not None:
            ctx.find_root().meta[key] = value

    return callback


def common_options(f):
    """--data-dir and --config, accepted before or after the subcommand."""
    f = click.option(
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_remember(_CONFIG_KEY),
        help=f"Campaign config file (default: ${CONFIG_ENV}, else ./campaign.toml).",
    )(f)
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path, file_okay=False),
        expose_value=False,
        callback=_remember(_DATA_DIR_KEY),
        help=f"Folder that holds all state (default: ${DATA_DIR_ENV}, else ./data).",
    )(f)


def settings() -> Settings:
    """The validated campaign config for this invocation (cached per command)."""
    ctx = click.get_current_context().find_root()
    if "pulse.settings" not in ctx.meta:
        ctx.meta["pulse.settings"] = load_settings(ctx.meta.get(_CONFIG_KEY))
    return ctx.meta["pulse.settings"]


def data_dir() -> DataDir:
    """The data directory for this invocation, created if needed, with Prefect isolated in it."""
    ctx = click.get_current_context().find_root()
    if "pulse.datadir" not in ctx.meta:
        d = DataDir.resolve(ctx.meta.get(_DATA_DIR_KEY)).ensure()
        d.isolate_prefect()
        ctx.meta["pulse.datadir"] = d
    return ctx.meta["pulse.datadir"]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Example: pulse --data-dir /srv/pulse demo-data --scale 2",
)
@common_options
@click.version_option(package_name="wellbeing-pulse", prog_name="pulse")
def cli() -> None:
    """Wellbeing Pulse: analytics for the #MentalWell-Being campaign.

    Landing files under DATA_DIR/landing/<stream>/ are loaded by a Prefect refresh into
    a DuckDB snapshot that the Streamlit dashboard reads.
    """


@cli.command("demo-data", epilog="Example: pulse demo-data --days 60 --scale 1 --seed 7")
@common_options
@click.option("--days", type=click.IntRange(7, 3650), default=60, show_default=True, help="Days of data.")
@click.option(
    "--scale",
    type=click.FloatRange(0.001, 1000),
    default=1.0,
    show_default=True,
    help="Volume multiplier: 1 is about 100,000 events.",
)
@click.option("--seed", type=int, default=20261010, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day of data, in the campaign timezone (default: yesterday).",
)
@click.option("--force", is_flag=True, help="Write even if the landing zone already holds files.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as one JSON object.")
def demo_data_cmd(days: int, scale: float, seed: int, end: dt.datetime | None, force: bool, as_json: bool) -> None:
    """Write realistic synthetic landing files for all three streams.

    Launch-day spike, weekly rhythm and evening peak, provinces by population, partner
    tip videos, a helpline funnel, safety actions, and about 0.5% planted bad rows, one
    unreadable file and one duplicate file. A manifest of what was planted is written to
    DATA_DIR/demo-manifest.json.
    """
    from pipelines.demo_data import DemoSpec, write_demo_data

    s = settings()
    d = data_dir()
    if not force and not d.landing_is_empty():
        raise PulseError(f"landing zone {d.landing} already holds files; pass --force to add demo data anyway")
    last_day = end.date() if end else s.today() - dt.timedelta(days=1)
    spec = DemoSpec(days=days, scale=scale, seed=seed, end=last_day)
    manifest = write_demo_data(s, d, spec)
    if as_json:
        click.echo(json.dumps(manifest, ensure_ascii=False))
        return
    click.echo(manifest_summary(manifest, d))


@cli.command("refresh", epilog="Example: pulse refresh --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts as one JSON object.")
@click.option(
    "--settle",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Seconds a landing file must be unchanged before it is read.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a refresh that is already running before giving up.",
)
def refresh_cmd(as_json: bool, settle: float, wait: float) -> None:
    """Run the Prefect refresh flow once: load new landing files and publish a snapshot.

    Uses the Prefect server at PREFECT_API_URL when set, else Prefect's ephemeral local API
    (state under DATA_DIR/prefect/). Progress and logs go to stderr; stdout gets one
    summary line, a table on a terminal, or with --json one JSON object.
    """
    s = settings()
    d = data_dir()
    if not as_json and sys.stderr.isatty():
        logging.basicConfig(format="%(message)s", level=logging.WARNING)
        logging.getLogger("pulse").setLevel(logging.INFO)
    from pipelines.refresh import refresh_lock

    refresh_lock(d, wait).release()  # fail fast, before paying for Prefect's start-up
    from pipelines.flows import refresh

    config = None if s.source == "built-in defaults" else s.source
    state = refresh(str(d.root), config, settle, wait, return_state=True)
    if state.is_failed():
        raise PulseError(state.message or "the refresh failed; see the log above")
    result = state.result()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    elif sys.stdout.isatty():
        click.echo(refresh_table(result))
    else:
        click.echo(refresh_line(result))


def refresh_line(result: dict[str, Any]) -> str:
    files = result["files"]
    head = (
        f"Published snapshot {result['snapshot_id']}"
        if result["published"]
        else f"Nothing new; snapshot {result['snapshot_id'] or '(none)'} stays published"
    )
    parts = "; ".join(
        f"{s} {result[s]['loaded']:,} loaded, {result[s]['duplicates']:,} duplicates, "
        f"{result[s]['quarantined']['total']:,} quarantined"
        for s in STREAMS
    )
    waiting = f", {len(files['waiting'])} still being written" if files["waiting"] else ""
    return (
        f"{head}: {parts} ({files['new']} new files, {files['skipped_seen']} already seen, "
        f"{len(files['unreadable'])} unreadable{waiting})."
    )


def refresh_table(result: dict[str, Any]) -> str:
    lines = [
        refresh_line(result).split(":")[0] + ":",
        f"  {'stream':<11}{'read':>11}{'loaded':>11}{'dups':>9}{'quarantined':>13}",
    ]
    for s in STREAMS:
        c = result[s]
        lines.append(
            f"  {s:<11}{c['read']:>11,}{c['loaded']:>11,}{c['duplicates']:>9,}{c['quarantined']['total']:>13,}"
        )
    files = result["files"]
    lines.append(
        f"  files: {files['new']} new, {files['skipped_seen']} already seen, "
        f"{len(files['unreadable'])} unreadable, {len(files['waiting'])} still being written"
    )
    for u in files["unreadable"]:
        lines.append(f"  unreadable: {u['path']}: {u['reason']}")
    return "\n".join(lines)


@cli.command("status", epilog="Example: pulse status --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status_cmd(as_json: bool) -> None:
    """Show what is published: rows per stream, days covered, last refresh, quarantine."""
    from queries.status import snapshot_status

    st = snapshot_status(data_dir(), settings())
    if as_json:
        click.echo(json.dumps(st, ensure_ascii=False))
        return
    if st["snapshot_id"] is None:
        click.echo(f"Nothing published yet in {st['data_dir']}; run 'pulse refresh'.")
        return
    lines = [
        f"Published snapshot {st['snapshot_id']}: {st['warehouse']}",
        f"  {'stream':<11}{'rows':>12}{'first day':>12}{'last day':>12}{'quarantined':>13}",
    ]
    for name, s in st["streams"].items():
        lines.append(
            f"  {name:<11}{s['rows']:>12,}{s['first_day'] or '-':>12}{s['last_day'] or '-':>12}{s['quarantined']:>13,}"
        )
    lines.append(
        f"  last refresh {st['last_refresh']} ({st['refreshes_published']} published); "
        f"{st['files_processed']} files processed, {st['quarantine']['unreadable_files']} unreadable"
    )
    click.echo("\n".join(lines))


@cli.command("dashboard", epilog="Example: pulse dashboard --port 8502")
@common_options
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
def dashboard_cmd(port: int, host: str) -> None:
    """Start the Streamlit dashboard on the published snapshot of this data dir."""
    import os

    s = settings()
    d = data_dir()
    app = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    env = {**os.environ, "PULSE_DATA_DIR": str(d.root)}
    if s.source != "built-in defaults":
        env["PULSE_CONFIG"] = str(Path(s.source).resolve())
    click.echo(
        f"Wellbeing Pulse dashboard: http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}",
        err=True,
    )
    args = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--theme.primaryColor",
        "#1F7A6B",
        "--client.toolbarMode",
        "minimal",
    ]
    os.execvpe(sys.executable, args, env)


@cli.command("bench", epilog="Example: pulse bench --rows 10000000 --json bench.json")
@click.option(
    "--rows",
    type=click.IntRange(1_000, 100_000_000),
    default=1_000_000,
    show_default=True,
    help="Engagement rows of the full load (the dashboard benchmark uses as many events).",
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
def bench_cmd(rows: int, json_path: Path | None, no_browser: bool, no_prefect: bool, work_dir: Path | None) -> None:
    """Run the benchmarks and print ratios measured in the same run.

    Full load of one engagement file (Parquet, CSV, CSV.gz) through the whole refresh against
    DuckDB's bare CREATE TABLE AS and Polars' bare read of the same file; incremental refresh
    and scaling at 1M, 3M, 10M rows (up to --rows); replay; every dashboard page's queries and
    first browser render; Prefect's fixed start-up, ephemeral and against a local server.
    Works in temporary folders only; the data dir is not touched. The default takes about
    2 minutes on 2 cores; --rows 10000000 about 15.
    """
    try:
        from benchmarks import suite
    except ImportError:
        raise PulseError(
            "the benchmarks need a source checkout (benchmarks/ beside pipelines/); run from one"
        ) from None
    result = suite.run(rows, browser=not no_browser, prefect=not no_prefect, work=work_dir)
    click.echo(suite.report(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        click.echo(f"Figures written to {json_path}", err=True)


def manifest_summary(manifest: dict[str, Any], d: DataDir) -> str:
    lines = [
        f"Wrote demo data to {d.landing} ({manifest['first_day']} to {manifest['last_day']}, "
        f"seed {manifest['seed']}, scale {manifest['scale']:g}) in {manifest['seconds']:.1f} s:",
        f"  {'stream':<11}{'files':>7}{'rows':>12}{'bad rows':>10}{'dup rows':>10}",
    ]
    for stream, m in manifest["streams"].items():
        lines.append(f"  {stream:<11}{m['files']:>7,}{m['rows']:>12,}{m['bad_rows']:>10,}{m['duplicate_rows']:>10,}")
    lines.append(f"  unreadable file planted: {manifest['unreadable_file']['path']}")
    lines.append(f"  duplicate file planted:  {manifest['duplicate_file']['path']}")
    lines.append(f"  planted kinds of bad row: {len(manifest['bad_kinds'])}; details in {d.demo_manifest}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line per error, never a traceback for a user error."""
    try:
        rv = cli.main(args=argv, prog_name="pulse", standalone_mode=False)
    except click.exceptions.UsageError as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else " (see 'pulse --help')"
        click.echo(f"Error: {e.format_message().rstrip('.')}{hint}", err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        click.echo(f"Error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("Error: interrupted", err=True)
        sys.exit(130)
    except PulseError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
