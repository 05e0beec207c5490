"""`pulse demo-data | refresh | status | duckdb | migrate | serve | export`: the commands
on landing files and the warehouse."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from cli.options import common_options, data_dir, settings, settle_option, wait_option
from core.datadir import DataDir
from core.errors import PulseError
from core.reference import STREAMS
from core.settings import Settings


@click.command("demo-data", epilog="Example: pulse demo-data --days 60 --scale 1 --seed 7")
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


@click.command("refresh", epilog="Example: pulse refresh --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts as one JSON object.")
@settle_option
@wait_option
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Read and validate the files on N stage worker processes (Prefect tasks), this process "
    "committing (default: schedule.workers; 0: all in this process).",
)
@click.option(
    "--pool",
    metavar="NAME",
    default=None,
    help="Stage the files on the Prefect work pool NAME's workers (`pulse worker --pool NAME` on each "
    "machine; needs PREFECT_API_URL), in --workers shards (default 2); this process commits.",
)
def refresh_cmd(as_json: bool, settle: float, wait: float, workers: int | None, pool: str | None) -> None:
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
    from pipelines import outcomes
    from pipelines.lake_write import RefreshBusy, writer_lock
    from pipelines.secrets import check_key

    started = time.monotonic()
    try:  # fail fast when busy, before paying for Prefect's start-up
        writer_lock(s, d, wait).release()
    except RefreshBusy:
        raise
    except PulseError:
        pass  # an unreachable catalog: the flow's refresh meets it again, records it and tells the alerts
    try:
        check_key(d)
        if "PREFECT_API_URL" not in os.environ:  # else Prefect's state is that server's
            d.prepare_prefect_home()
    except PulseError as e:  # recorded like a failed run: `pulse status` and the banner show it
        outcomes.record(d, "failure", "manual", str(e))
        raise
    from pipelines.flows import refresh

    config = None if s.source == "built-in defaults" else s.source
    try:
        left = max(0.0, wait - (time.monotonic() - started))  # --wait is for the whole command, not each lock
        state = refresh(str(d.root), config, settle, left, workers=workers, pool=pool, return_state=True)
    except Exception as e:  # Prefect could not start or reach its API: the flow never ran
        reason = f"Prefect could not run the refresh: {outcomes.one_line(e)}"
        outcomes.record(d, "failure", "manual", reason)
        raise PulseError(reason) from None
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
    skipped = f", {len(files['skipped'])} skipped, not read" if files.get("skipped") else ""
    return (
        f"{head}: {parts} ({files['new']} new files, {files['skipped_seen']} already seen, "
        f"{len(files['unreadable'])} unreadable{waiting}{skipped})."
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
    for u in files.get("skipped", []):
        lines.append(f"  skipped: {u['path']}: {u['reason']}")
    return "\n".join(lines)


@click.command("status", epilog="Example: pulse status --json --at 2026-11-30T18:00:00+07:00")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    default=None,
    help="What was published at TIME: an ISO date-time with its offset, or a date (the end of that day in the "
    "campaign timezone). Reaches back warehouse.keep_days (the lake's time travel).",
)
def status_cmd(as_json: bool, at_text: str | None) -> None:
    """Show what is published: rows per stream, days covered, last refresh, quarantine."""
    from queries.status import parse_at, snapshot_status

    at = None
    if at_text is not None:
        try:
            at = parse_at(at_text, settings().timezone)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="'--at'") from None
    st = snapshot_status(data_dir(create=False), settings(), at)
    if as_json:
        click.echo(json.dumps(st, ensure_ascii=False))
        return
    if st["snapshot_id"] is None:
        click.echo(f"Nothing published yet in {st['data_dir']}; run 'pulse refresh'.")
        if more := run_lines(st):
            click.echo("\n".join(more))
        return
    when = f" at {st['at']} (committed {st['snapshot_time']})" if at is not None else ""
    lines = [
        f"Published snapshot {st['snapshot_id']}{when}: {st['warehouse']}",
        f"  data files {st['data_path']}",
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
    click.echo("\n".join(lines + run_lines(st)))


def run_lines(st: dict[str, Any]) -> list[str]:
    """Last success, last failure and next scheduled run, for the human `pulse status`."""
    lines = []
    if st["last_success"]:
        lines.append(f"  last successful run {st['last_success']}")
    if st["last_failure"]:
        lines.append(f"  last failed run {st['last_failure']['at']}: {st['last_failure']['reason']}")
    if st["schedule"]:
        lines.append(
            f"  next run {st['next_run']} (pulse serve pid {st['schedule']['pid']}, "
            f"Prefect {st['schedule']['prefect_ui_url'] or st['schedule']['prefect_api_url']})"
        )
    return lines


@click.command("duckdb", epilog="Example: pulse duckdb -c \"from ducklake_snapshots('lake')\"")
@common_options
@click.option("-c", "--command", "sql_text", default=None, help="Run this SQL on the lake and exit.")
@click.option("--print", "print_only", is_flag=True, help="Print the statements that attach the lake, and exit.")
def duckdb_cmd(sql_text: str | None, print_only: bool) -> None:
    """Open DuckDB's own CLI on the lake, read-only, as catalog `lake`.

    The extensions are loaded by path from the installed packages (never downloaded); the
    refresh and the dashboard may run meanwhile. Without -c: an interactive shell.
    """
    setup = duckdb_cli_setup(settings(), data_dir(create=False))
    if print_only:
        click.echo(setup)
        return
    binary = Path(sys.executable).parent / "duckdb"
    if not binary.exists():
        raise PulseError(f"{binary}: missing; DuckDB's CLI comes with the project (PyPI duckdb-cli), reinstall it")
    sys.stdout.flush()
    os.execv(binary, [str(binary), "-cmd", setup, *(["-c", sql_text] if sql_text is not None else [])])


def duckdb_cli_setup(s: Settings, d: DataDir) -> str:
    """The statements that make DuckDB's CLI read this data dir's lake read-only, offline."""
    from core.lake import extension_path, lake_location, s3_secret_sql

    where = lake_location(s, d)

    def quoted(text: object) -> str:
        return str(text).replace("'", "''")

    loads = " ".join(f"LOAD '{quoted(extension_path(name))}';" for name in where.extensions)
    # an s3:// data path: the CLI reads the AWS_* secrets itself (getenv), none is printed here
    secret = f" {s3_secret_sql(where, 'pulse_s3', by_reference=True)};" if where.on_s3 else ""
    override = ", OVERRIDE_DATA_PATH true" if where.follows_data_dir else ""
    return (
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; "
        f"{loads}{secret} ATTACH 'ducklake:{quoted(where.catalog)}' AS lake "
        f"(DATA_PATH '{quoted(where.data_path)}'{override}, READ_ONLY); USE lake;"
    )


@click.command("migrate", epilog="Example: pulse migrate --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print what was carried over as one JSON object.")
@wait_option
def migrate_cmd(as_json: bool, wait: float) -> None:
    """Carry the published snapshot file (warehouse/CURRENT) into the lake, once.

    Every table in one lake transaction, checked before it commits (counts, distinct user
    keys, the ledger, partner releases row for row). A snapshot written by a newer DuckDB
    is read with that DuckDB through uv (PULSE_UV, .tools/bin/uv or uv on PATH). Nothing
    to migrate, or already migrated: says so, exit 0. A lake that already holds refreshes
    is never mixed with a snapshot file: one line, exit 1. The snapshot files stay.
    """
    from pipelines.migrate import migrate

    result = migrate(settings(), data_dir(create=False), wait_seconds=wait)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(result.message[:1].upper() + result.message[1:] + ".")


@click.command("worker", epilog="Example: pulse worker --pool stage  (with PREFECT_API_URL set)")
@common_options
@click.option("--pool", metavar="NAME", required=True, help="The Prefect work pool to take stage runs from.")
def worker_cmd(pool: str) -> None:
    """Stage refreshes' files on this machine, for `pulse refresh --pool NAME` on another.

    Makes the Prefect work pool NAME (type process) and its deployment `stage files/NAME` if
    they are missing, then runs Prefect's process worker on the pool until Ctrl-C. Each run
    hashes, reads, validates and keys one shard of a refresh's files with this data dir's HMAC
    key (or PULSE_HMAC_KEY) and writes its rows as Parquet parts under the lake's data path;
    the refresh's own machine commits them. Needs PREFECT_API_URL (a shared Prefect server),
    the lake's data path and credentials, and the landing files at the same path as there.
    """
    from pipelines.work_pool import serve_pool

    serve_pool(pool, data_dir())


@click.command("serve", epilog="Example: pulse serve --port 4200")
@common_options
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port of the local Prefect server and its UI (default: a free one). Ignored with PREFECT_API_URL.",
)
@click.option("--cron", default=None, help="Cron expression in the campaign timezone (default: schedule.cron).")
@click.option(
    "--interval",
    type=click.FloatRange(5),
    default=None,
    help="Refresh every SECONDS instead of on the cron schedule (catching up, tests).",
)
@settle_option
def serve_cmd(port: int | None, cron: str | None, interval: float | None, settle: float) -> None:
    """Run the refresh on its schedule until Ctrl-C or SIGTERM.

    Starts a local Prefect server on 127.0.0.1 (state in DATA_DIR/prefect/) unless
    PREFECT_API_URL names one, prints where its UI is, and serves the refresh flow with a
    concurrency limit of one (a run due while another runs is cancelled) and a daily
    housekeeping run. Outcomes go to DATA_DIR/runs.jsonl; see 'pulse status'.
    """
    import os

    from core.settings import Schedule
    from pipelines.serve import serve

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")  # the operator sees each run start and end
    s = settings()
    if cron is not None:
        try:
            Schedule(cron=cron)
        except ValueError:
            raise click.BadParameter(f"not a valid cron expression: {cron!r}", param_hint="--cron") from None
    d = data_dir()
    if "PREFECT_API_URL" not in os.environ:
        d.prepare_prefect_home()
    config = None if s.source == "built-in defaults" else str(Path(s.source).resolve())
    serve(
        s,
        d,
        config=config,
        port=port,
        cron=cron,
        interval=interval,
        settle_seconds=settle,
        echo=lambda m: click.echo(m, err=True),
    )


@click.command(
    "export", epilog="Example: pulse export --partner tpo-cambodia --from 2026-11-01 --to 2026-11-30 --out tpo.csv"
)
@common_options
@click.option("--partner", "partner_id", required=True, help="Partner id (slug) from the campaign config.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (default: launch).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (default: today).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="CSV file to write, or - for stdout.",
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(["km", "en"]),
    default=None,
    help="Headers and categories in this language (km Khmer, with a UTF-8 BOM for Excel; en English), as the "
    "portal's download writes them. Without it: the fixed English format scripts parse, unchanged.",
)
def export_cmd(
    partner_id: str, start: dt.datetime | None, end: dt.datetime | None, out: Path, language: str | None
) -> None:
    """Write one partner's helpline-referral report as CSV, as its portal shows it.

    Figures come in whole released weeks (Monday to Sunday, campaign time, released
    privacy.release_after_hours after they end); every week that overlaps --from/--to is
    included. Counts below privacy.min_cell read <N, and further cells read 'hidden' where a
    small one could otherwise be worked out from the week's total (README, "Privacy").
    """
    from core import audit, csvfile
    from queries import partner
    from queries.warehouse import published

    s = settings()
    d = data_dir(create=False)
    if partner_id not in s.partner_ids:
        raise PulseError(f"unknown partner {partner_id!r}; use one of {', '.join(s.partner_ids)} (campaign config)")
    first = start.date() if start else s.launch
    last = end.date() if end else s.today()
    if first > last:
        raise PulseError(f"--from {first} is after --to {last}; swap them")
    from core import labels

    token = labels.use(language) if language else None
    try:
        with published(d) as con:
            report = partner.report(con, s, partner_id, first, last, script=language is None)
    finally:
        if token is not None:
            labels.reset(token)
    bom = language is not None and csvfile.bom_for(language)
    lang = f" --lang {language}" if language else ""
    audit.record(
        d, None, audit.EXPORT, f"pulse export --partner {partner_id} --from {first} --to {last}{lang} -> {out}"
    )
    if out == Path("-"):
        if bom:
            sys.stdout.flush()
            sys.stdout.buffer.write(csvfile.to_bytes(report, bom=True))
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(csvfile.to_text(report))
    else:
        if not out.parent.is_dir():
            raise PulseError(f"folder {out.parent} does not exist; create it or choose another --out")
        try:
            csvfile.write(report, out, bom=bom)
        except OSError as e:
            raise PulseError(f"cannot write {out}: {e.strerror or e}; choose another --out") from None
        weeks = report[report.columns[1]].n_unique()
        click.echo(f"Wrote {out}: {weeks} released week{'s' * (weeks != 1)}, {report.height:,} figures.", err=True)


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
