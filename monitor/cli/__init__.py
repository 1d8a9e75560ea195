"""The ``newsmon`` command line: a small click group, commands split by noun."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor import __version__
from monitor.cli.lazy import LazyGroup
from monitor.errors import NewsmonError

if TYPE_CHECKING:
    from monitor.config.settings import Settings

__all__ = ["main"]

# each command, and the modules of monitor.cli that define it or add subcommands to it
# (their ``register``), imported when the command is used: `newsmon alerts list` does not
# import the daemon, the fetcher or the scheduler, and starts in a fraction of the time
COMMANDS: dict[str, tuple[str, ...]] = {
    "alerts": ("alerts",),  # its subcommands load lazily too (monitor.cli.alerts)
    "completion": ("completion",),
    "config": ("config",),
    "db": ("db",),
    "deliveries": ("deliveries",),
    "demo": ("demo",),
    "feeds": ("feeds", "opml"),
    "init": ("init",),
    "notify": ("notify",),
    "poll": ("poll",),
    "run": ("run",),
    "stats": ("stats",),
    "status": ("status",),
    "watchlists": ("watchlists",),
}
# each command's one-line help, so that `newsmon --help` imports no command module
# (tests/test_cli_lazy.py checks each against the command's own help)
SUMMARIES: dict[str, str] = {
    "alerts": "Alert history: list, show, export as Atom, CSV or JSON, serve as a feed.",
    "completion": "Print the completion script for bash, zsh or fish.",
    "config": "Check the configuration.",
    "db": "Manage the database.",
    "deliveries": "The outbox: one delivery per alert and channel.",
    "demo": "Run the whole pipeline on bundled sample feeds served from 127.0.0.1.",
    "feeds": "Feeds, their health, adding and removing them, OPML import and export.",
    "init": "Write the config, the state folder and the systemd unit, then say what to run next.",
    "notify": "Notification channels.",
    "poll": "Poll every feed once, whatever its schedule, deliver alerts, and exit.",
    "run": "Run the daemon: poll feeds on their schedule and deliver alerts until stopped.",
    "stats": "Alert volume per watchlist, feed or term over time, as charts or JSON.",
    "status": "Summarise health; exit 2 when something needs attention, 0 when all is well.",
    "watchlists": "Watchlists: what they match, dry runs, and runs over stored articles.",
}


class Obj:
    """What the group hands to commands: the config path, loaded on first use, and
    where that path came from (``config_from``: --config, NEWSMON_CONFIG, ...)."""

    def __init__(self, config_path: Path, config_from: str = "--config") -> None:
        self.config_path = config_path
        self.config_from = config_from
        self._settings: Settings | None = None

    @property
    def database_url(self) -> str:
        """``[database] url``, read without validating the rest of the config: a command
        that only reads the history starts sooner, and works while another part of the
        config has a mistake (``config check`` lists those)."""
        if self._settings is None:
            from monitor.config.files import database_url

            if (url := database_url(self.config_path)) is not None:
                return url
        return self.settings.database.url

    @property
    def settings(self) -> Settings:
        from monitor.config.settings import load

        if self._settings is None:
            self._settings = load(self.config_path)
        return self._settings


class Group(LazyGroup):
    """The ``newsmon`` group: commands load on first use (``COMMANDS``); an error from
    the tree in monitor.errors is printed with its hint, and exits 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsmonError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            click.echo(f"hint: {exc.hint}", err=True)
            sys.exit(1)


@click.group(
    cls=Group,
    lazy=COMMANDS,
    summaries=SUMMARIES,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="NEWSMON_CONFIG",
    default=None,
    help="Config file or folder of *.toml  [env NEWSMON_CONFIG; default "
    "./config/newsmon.toml if there is one, else /etc/newsmon/newsmon.toml]",
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
    from monitor.config.files import default_config_path
    from monitor.log import setup_logging  # not needed for --help

    if not gc.isenabled():  # started by main(): the command's modules are imported now
        gc.freeze()  # they live until exit: later collections need not look at them
        gc.enable()
    setup_logging(log_level)
    ctx.obj = Obj(config_path or default_config_path(), _config_from(ctx, config_path))


def _config_from(ctx: click.Context, config_path: Path | None) -> str:
    """Which rule chose the config file, for ``config check`` and ``status`` to say."""
    from monitor.config.files import SYSTEM_CONFIG, default_config_path

    source = ctx.get_parameter_source("config_path")
    if config_path is not None and source == click.core.ParameterSource.ENVIRONMENT:
        return "NEWSMON_CONFIG"
    if config_path is not None:
        return "--config"
    return "default" if default_config_path() == SYSTEM_CONFIG else "./config/newsmon.toml"


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
    """``newsmon``. The garbage collector waits while the command's modules are imported
    (the group's callback starts it again), and nothing is collected at exit: start-up
    allocates many objects that live until the end, and collecting among them would
    find nothing to free, at the cost of a tenth of the start-up time."""
    gc.disable()
    try:
        cli(args=_config_first(sys.argv[1:]), prog_name="newsmon")
    finally:
        gc.freeze()
