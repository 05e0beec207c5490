"""`pulse`: the stable command line of CONTRACT §5.

Errors: a PulseError or a usage mistake becomes one `Error: …` line on stderr and a
non-zero exit (1 for errors, 2 for usage). Anything else is a bug and keeps its traceback.

The commands live by subject in cli/data.py, cli/dashboard.py, cli/alerts.py, cli/bench.py."""

from __future__ import annotations

import os
import sys

import click

from cli import alerts, bench, dashboard, data
from cli.options import common_options
from core.datadir import PRIVATE_UMASK
from core.errors import PulseError


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


for command in (
    data.demo_data_cmd,
    data.refresh_cmd,
    data.status_cmd,
    data.duckdb_cmd,
    data.migrate_cmd,
    data.serve_cmd,
    data.worker_cmd,
    data.export_cmd,
    dashboard.dashboard_cmd,
    dashboard.users_group,
    alerts.alerts_group,
    bench.bench_cmd,
):
    cli.add_command(command)


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
