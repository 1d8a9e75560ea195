"""``newsmon config check``: the config validated, secrets and placeholders included."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from monitor.cli.output import counted, format_option
from monitor.cli.where import config_reason
from monitor.config.settings import load

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["register"]


@click.group()
def config() -> None:
    """Check the configuration.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml config check
    """


@config.command("check")
@format_option("text", "json", default="text")
@click.pass_obj
def config_check(obj: Obj, fmt: str) -> None:
    """Validate the config; exit 1 with every problem listed, by file, line and key.

    Every channel's secrets are read as the daemon reads them (urls_file, urls_env,
    urls_credential), and example placeholders (CHANGE-ME, <token>, example.org hosts)
    are refused. The first line names the file read and why that one: --config,
    NEWSMON_CONFIG, ./config/newsmon.toml (a checkout) or the default
    /etc/newsmon/newsmon.toml.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml config check
    """
    settings = load(obj.config_path, with_secrets=True)
    summary = {
        "config": str(obj.config_path.resolve()),
        "config_from": obj.config_from,
        "feeds": len(settings.feed),
        "watchlists": len(settings.watchlist),
        "channels": len(settings.channel),
    }
    if fmt == "json":
        click.echo(json.dumps({"ok": True, **summary}))
    else:
        click.echo(
            f"config OK: {obj.config_path} ({config_reason(obj.config_from)}): "
            f"{counted(len(settings.feed), 'feed')}, "
            f"{counted(len(settings.watchlist), 'watchlist')}, "
            f"{counted(len(settings.channel), 'channel')}"
        )


def register(group: click.Group) -> None:
    group.add_command(config)
