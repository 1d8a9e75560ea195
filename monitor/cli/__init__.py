"""The ``newsmon`` command line: a small click group, commands split by noun."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from monitor import __version__
from monitor.cli import (
    admin,
    alerts,
    completion,
    deliveries,
    export,
    feeds,
    notify,
    opml,
    ops,
    search,
    show,
    stats,
    watchlists,
)
from monitor.config import Settings, default_config_path, load
from monitor.errors import NewsmonError
from monitor.log import setup_logging

__all__ = ["main"]


class Obj:
    """What the group hands to commands: the config path, loaded on first use."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load(self.config_path)
        return self._settings


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsmonError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            click.echo(f"hint: {exc.hint}", err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="NEWSMON_CONFIG",
    default=None,
    help="Config file or folder of *.toml  [env NEWSMON_CONFIG; default config/newsmon.toml]",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.version_option(__version__, prog_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, log_level: str) -> None:
    """newsmon: polls news feeds, matches watchlists, alerts once per story.

    \b
    Example:
        newsmon --config config/newsmon.toml poll --once
        newsmon alerts list --since 24h --format json
        newsmon alerts search 'OSCE OR ОБСЕ' --since 7d
        newsmon deliveries list --status failed
        newsmon alerts export --format atom -o alerts.atom
    """
    setup_logging(log_level)
    ctx.obj = Obj(config_path or default_config_path())


for module in (
    admin,
    ops,
    feeds,
    opml,
    alerts,
    search,
    show,
    export,
    deliveries,
    notify,
    watchlists,
    stats,
    completion,
):
    module.register(cli)


def _config_first(args: list[str]) -> list[str]:
    """Accept ``--config`` anywhere (``newsmon run --config X``), as the global option."""
    rest, moved = [], []
    i = 0
    while i < len(args):
        if args[i] == "--" or args[i] in ("-h", "--help"):
            rest.extend(args[i:])
            break
        if args[i] == "--config" and i + 1 < len(args):
            moved += args[i : i + 2]
            i += 2
            continue
        if args[i].startswith("--config="):
            moved.append(args[i])
        else:
            rest.append(args[i])
        i += 1
    return moved + rest


def main() -> None:
    cli(args=_config_first(sys.argv[1:]), prog_name="newsmon")
