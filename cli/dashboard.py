"""`pulse dashboard` and `pulse users`: the dashboard and its accounts."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from cli.options import common_options, data_dir, settings
from core.errors import PulseError


@click.command("dashboard", epilog="Example: pulse dashboard --port 8502")
@common_options
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
def dashboard_cmd(port: int, host: str) -> None:
    """Start the Streamlit dashboard on the published snapshot of this data dir."""

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


@click.group("users", epilog="Example: pulse users add ana --role partner --partner tpo-cambodia")
def users_group() -> None:
    """Manage dashboard accounts (stored in DATA_DIR/accounts/accounts.sqlite).

    Roles: policy (every policy page), partner (bound to one partner id of the config: only
    its own referral pages), admin (policy pages, data health and accounts). Passwords are
    hashed with Argon2id; a generated password is printed once and never stored in clear.
    """


def _new_password(password_stdin: bool) -> tuple[str, bool]:
    """(password, generated?): the first line of stdin with --password-stdin, else a random one."""
    from core.accounts import check_password, generate_password

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
    from core import accounts, audit

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
    from core import accounts

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
    from core import accounts, audit

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
    from core import accounts, audit

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

    from core import accounts, audit

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
