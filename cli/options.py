"""The options every `pulse` command shares (--data-dir, --config, --settle, --wait) and
the settings and data dir of this invocation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from core.datadir import DATA_DIR_ENV, DataDir
from core.schedule import isolate_prefect
from core.settings import CONFIG_ENV, Settings, load_settings

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


wait_option = click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a refresh that is already running before giving up.",
)
