"""``newsmon run``: the daemon, in the foreground (systemd runs it so)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["EX_CONFIG", "register"]

EX_CONFIG = 78  # sysexits.h: `newsmon run` on a bad config; the unit does not restart it


@click.command()
@click.pass_obj
def run(obj: Obj) -> None:
    """Run the daemon: poll feeds on their schedule and deliver alerts until stopped.

    SIGTERM or SIGINT stops it cleanly; SIGHUP reloads the config. A config that is
    not valid (secrets included) exits with 78 (EX_CONFIG), which the unit does not
    restart: the error stays at the end of `systemctl status newsmon`.

    \b
    Example:
        newsmon --config /etc/newsmon/newsmon.toml run
    """
    from monitor.daemon import Daemon

    try:
        daemon = Daemon(obj.config_path, obj.settings)
    except ConfigError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(EX_CONFIG)
    daemon.run()


def register(group: click.Group) -> None:
    group.add_command(run)
