"""`pulse`: the stable command line of CONTRACT §5.

Errors: a PulseError or a usage mistake becomes one `Error: …` line on stderr and a
non-zero exit (1 for errors, 2 for usage). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from queries.datadir import DATA_DIR_ENV, PRIVATE_UMASK, DataDir
from queries.errors import PulseError
from queries.reference import STREAMS
from queries.schedule import isolate_prefect
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


settle_option = click.option(
    "--settle",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Seconds a landing file must be unchanged before it is read.",
)


def settings() -> Settings:
    """The validated campaign config for this invocation (cached per command)."""
    ctx = click.get_current_context().find_root()
    if "pulse.settings" not in ctx.meta:
        s = load_settings(ctx.meta.get(_CONFIG_KEY))
        if s.source != "built-in defaults":  # the read side finds the lake through the same file
            os.environ[CONFIG_ENV] = str(Path(s.source).resolve())
        ctx.meta["pulse.settings"] = s
    return ctx.meta["pulse.settings"]


def data_dir(*, create: bool = True) -> DataDir:
    """The data directory for this invocation, with Prefect isolated in it. Only commands
    that write create it (create=True); the others fail with one line if it does not exist."""
    ctx = click.get_current_context().find_root()
    if "pulse.datadir" not in ctx.meta:
        d = DataDir.resolve(ctx.meta.get(_DATA_DIR_KEY))
        d = d.ensure() if create else d.existing()
        isolate_prefect(d)
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
    a DuckLake warehouse that the Streamlit dashboard reads.
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
@settle_option
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
    from pipelines import outcomes
    from pipelines.lake_write import refresh_lock
    from pipelines.secrets import check_key

    refresh_lock(d, wait).release()  # fail fast, before paying for Prefect's start-up
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
        state = refresh(str(d.root), config, settle, wait, return_state=True)
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


@cli.command("status", epilog="Example: pulse status --json --at 2026-11-30T18:00:00+07:00")
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


@cli.command("duckdb", epilog="Example: pulse duckdb -c \"from ducklake_snapshots('lake')\"")
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
    from queries.lake import EXTENSIONS, extension_path, lake_location

    where = lake_location(s, d)

    def quoted(text: object) -> str:
        return str(text).replace("'", "''")

    loads = " ".join(f"LOAD '{quoted(extension_path(name))}';" for name in EXTENSIONS[where.kind])
    override = ", OVERRIDE_DATA_PATH true" if where.follows_data_dir else ""
    return (
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; "
        f"{loads} ATTACH 'ducklake:{quoted(where.catalog)}' AS lake "
        f"(DATA_PATH '{quoted(where.data_path)}'{override}, READ_ONLY); USE lake;"
    )


@cli.command("migrate", epilog="Example: pulse migrate --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print what was carried over as one JSON object.")
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a refresh that is already running before giving up.",
)
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


@cli.command("serve", epilog="Example: pulse serve --port 4200")
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

    from pipelines.serve import serve
    from queries.settings import Schedule

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


@cli.command(
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
    from queries import audit, csvfile, partner
    from queries.warehouse import published

    s = settings()
    d = data_dir(create=False)
    if partner_id not in s.partner_ids:
        raise PulseError(f"unknown partner {partner_id!r}; use one of {', '.join(s.partner_ids)} (campaign config)")
    first = start.date() if start else s.launch
    last = end.date() if end else s.today()
    if first > last:
        raise PulseError(f"--from {first} is after --to {last}; swap them")
    from queries import labels

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


@cli.command("dashboard", epilog="Example: pulse dashboard --port 8502")
@common_options
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
def dashboard_cmd(port: int, host: str) -> None:
    """Start the Streamlit dashboard on the published snapshot of this data dir."""
    import os

    s = settings()
    d = data_dir(create=False)
    # server.py wraps app.py in st.App with dashboard/downloads.py's guard (session-bound
    # downloads, no /_stcore/metrics, security headers)
    app = Path(__file__).resolve().parent.parent / "dashboard" / "server.py"
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
        "--client.disableDataExport",
        "true",  # no CSV download or copy from Streamlit's table toolbar: only the app's audited downloads
        "--client.showErrorDetails",
        "none",  # a bug shows a generic message, never a traceback (it goes to the server log)
        # an installed dashboard never reloads its own source: no file watcher polling the
        # modules after every run (it cost ~0.2 s of each first render)
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
    ]
    os.execvpe(sys.executable, args, env)


# --- pulse users: dashboard accounts -----------------------------------------------------


@cli.group("users", epilog="Example: pulse users add ana --role partner --partner tpo-cambodia")
def users_group() -> None:
    """Manage dashboard accounts (stored in DATA_DIR/accounts/accounts.sqlite).

    Roles: policy (every policy page), partner (bound to one partner id of the config: only
    its own referral pages), admin (policy pages, data health and accounts). Passwords are
    hashed with Argon2id; a generated password is printed once and never stored in clear.
    """


def _new_password(password_stdin: bool) -> tuple[str, bool]:
    """(password, generated?): the first line of stdin with --password-stdin, else a random one."""
    from queries.accounts import check_password, generate_password

    if not password_stdin:
        return generate_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise PulseError(
            "--password-stdin: no password on standard input; pipe one line, e.g. printf '%s\\n' \"$PW\" |"
        )
    check_password(password)
    return password, False


_password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of generating one.",
)


@users_group.command("add", epilog="Example: pulse users add tpo-data --role partner --partner tpo-cambodia")
@common_options
@click.argument("name")
@click.option("--role", type=click.Choice(["policy", "partner", "admin"]), required=True, help="What the account sees.")
@click.option("--partner", "partner_id", metavar="SLUG", help="Partner id from the config (role partner only).")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["km", "en"]),
    help="The dashboard's language after sign-in (km Khmer, en English; default: the browser's).",
)
@_password_stdin
def users_add_cmd(name: str, role: str, partner_id: str | None, language: str | None, password_stdin: bool) -> None:
    """Create an account NAME and print its generated password once (or read one from stdin)."""
    from queries import accounts, audit

    s = settings()
    d = data_dir()
    accounts.check_name(name)
    accounts.check_role(s, role, partner_id)
    password, generated = _new_password(password_stdin)
    accounts.add(d, s, name, role, partner_id, password, language=language)
    audit.record(
        d,
        name,
        audit.ACCOUNT_ADDED,
        f"pulse users add: role {role}"
        + (f" {partner_id}" if partner_id else "")
        + (f" lang {language}" if language else ""),
    )
    bound = f" for {partner_id}" if partner_id else ""
    click.echo(f"Added {role} account {name!r}{bound}.", err=generated)
    _show_once(password, generated)


def _show_once(password: str, generated: bool) -> None:
    """A generated password: alone on stdout (for scripts), explained on stderr."""
    if generated:
        click.echo(f"Password (shown once, store it now): {password}", err=True)
        click.echo(password)


@users_group.command("list", epilog="Example: pulse users list --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as one JSON array.")
def users_list_cmd(as_json: bool) -> None:
    """List accounts: name, role, partner, failed sign-ins, locked until (no password hashes)."""
    from queries import accounts

    rows = accounts.list_accounts(data_dir(create=False))
    now = dt.datetime.now(dt.UTC)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": a.name,
                        "role": a.role,
                        "partner": a.partner_id,
                        "failed_sign_ins": a.count_failed_sign_ins,
                        "locked_until": a.locked_until.isoformat() if a.is_locked(now) else None,
                        "created_at": a.created_at.isoformat(),
                        "language": a.language,
                    }
                    for a in rows
                ]
            )
        )
        return
    if not rows:
        click.echo("No accounts yet; add one with 'pulse users add NAME --role policy'.")
        return
    width = max(len(a.name) for a in rows) + 2
    click.echo(f"{'name':<{width}}{'role':<9}{'partner':<26}{'failed':>7}  locked until")
    for a in rows:
        locked = f"{a.locked_until:%Y-%m-%d %H:%M} UTC" if a.is_locked(now) else "-"
        click.echo(f"{a.name:<{width}}{a.role:<9}{a.partner_id or '-':<26}{a.count_failed_sign_ins:>7}  {locked}")


@users_group.command("remove", epilog="Example: pulse users remove tpo-data")
@common_options
@click.argument("name")
def users_remove_cmd(name: str) -> None:
    """Delete account NAME; a dashboard session it has open ends on its next interaction."""
    from queries import accounts, audit

    d = data_dir()
    accounts.remove(d, name)
    audit.record(d, name, audit.ACCOUNT_REMOVED, "pulse users remove")
    click.echo(f"Removed account {name!r}.")


@users_group.command(
    "reset-password", epilog="Example: pulse users reset-password ana --password-stdin < new-password.txt"
)
@common_options
@click.argument("name")
@_password_stdin
def users_reset_password_cmd(name: str, password_stdin: bool) -> None:
    """Give NAME a new password (printed once, or read from stdin); also unlocks it."""
    from queries import accounts, audit

    d = data_dir()
    if accounts.get(d, name) is None:
        raise accounts.AccountError(f"no account named {name!r}; 'pulse users list' shows the accounts")
    password, generated = _new_password(password_stdin)
    accounts.reset_password(d, name, password)
    audit.record(d, name, audit.PASSWORD_RESET, "pulse users reset-password")
    click.echo(f"New password set for {name!r}; it is unlocked.", err=generated)
    _show_once(password, generated)


@users_group.command("demo", epilog="Example: pulse users demo")
@common_options
def users_demo_cmd() -> None:
    """Create demo accounts (demo-policy, demo-admin, one demo-<partner> per partner) that do not
    exist yet, with generated passwords kept in DATA_DIR/secrets/demo-accounts.txt (mode 0600).
    For trying the dashboard on demo data; `.ci/start` runs it."""
    import os

    from queries import accounts, audit

    s = settings()
    d = data_dir()
    path = d.secrets / "demo-accounts.txt"
    kept: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                name, _, _, password = line.split("\t")
                kept[name] = password
    wanted = [("demo-policy", "policy", None), ("demo-admin", "admin", None)]
    wanted += [(f"demo-{p.id}", "partner", p.id) for p in s.partners]
    lines = ["# name\trole\tpartner\tpassword (demo accounts made by `pulse users demo`)"]
    for name, role, partner_id in wanted:
        account = accounts.get(d, name)
        if account is None:
            password = accounts.generate_password()
            accounts.add(d, s, name, role, partner_id, password)
            audit.record(d, name, audit.ACCOUNT_ADDED, "pulse users demo")
        elif name in kept:
            password = kept[name]
        else:
            continue  # made some other way: its password is not ours to show
        lines.append(f"{name}\t{role}\t{partner_id or '-'}\t{password}")
    d.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    names = ", ".join(line.split("\t")[0] for line in lines[1:])
    click.echo(f"Demo accounts: {names}; their passwords are in {path}.")


@cli.group("alerts", epilog="Example: pulse alerts list --json")
def alerts_group() -> None:
    """Alerts: unusual counts found at each refresh, sent to the routes of [[alerts.routes]]."""


@alerts_group.command("test", epilog="Example: pulse alerts test")
@common_options
def alerts_test_cmd() -> None:
    """Send one test message to every route of the config; exit 1 if any did not take it."""
    from pipelines.notify import test_routes

    s = settings()
    if not s.alerts.routes:
        raise PulseError(f"{s.source}: no [[alerts.routes]] to test; add one with url and audience")
    results = test_routes(s)
    for name, ok in results:
        click.echo(f"{name}: {'delivered' if ok else 'NOT delivered'}")
    failed = [name for name, ok in results if not ok]
    if failed:
        raise PulseError(f"{len(failed)} of {len(results)} routes did not take the test message: {', '.join(failed)}")


@alerts_group.command("list", epilog="Example: pulse alerts list --json")
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as one JSON array.")
@click.option("--all", "show_all", is_flag=True, help="Also incidents resolved in the last 7 days.")
def alerts_list_cmd(as_json: bool, show_all: bool) -> None:
    """Print the open alert incidents of the published snapshot, with their dashboard links."""
    from queries import alerts as qa
    from queries.warehouse import published

    s = settings()
    d = data_dir(create=False)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=7 if show_all else 36500)
    with published(d) as con:
        df = qa.alert_incidents(con, since)
    incidents = [i for i in qa.incidents_of(df) if show_all or i.status == "open"]
    rows = [
        {
            "incident_id": i.incident_id,
            "status": i.status,
            "metric": i.metric,
            "partner_id": i.partner_id or None,
            "place": i.place,
            "direction": i.direction,
            "first_day": i.first_day.isoformat(),
            "last_day": i.last_day.isoformat(),
            "peak_day": i.peak_day.isoformat(),
            "observed": i.observed,
            "expected": round(i.expected, 1),
            "level": i.level,
            "link": qa.dashboard_link(s, i),
        }
        for i in incidents
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("No open alert incidents.")
    for r in rows:
        partner = f" {r['partner_id']}" if r["partner_id"] else ""
        click.echo(
            f"{r['status']:8} {r['metric']}{partner} {r['direction']} in {r['place']} on {r['peak_day']}: "
            f"{r['observed']} against {r['expected']} expected  {r['link']}"
        )


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
    """Console-script entry point: one line per error, never a traceback for a user error.
    Everything this process and its children (Prefect's server, the dashboard) create is
    private to the user: files 0600, folders 0700."""
    os.umask(PRIVATE_UMASK)
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
