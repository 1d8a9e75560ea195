"""Groups whose commands live in other modules of monitor.cli, imported on first use.

A command that reads the history should not pay for importing the daemon, the fetcher
and the scheduler: ``newsmon alerts list`` imports what listing needs and no more, and
``newsmon --help`` imports no command module at all: the group knows each command's
one-line help (``summaries``; tests/test_cli_lazy.py checks them against the commands).
Each module named has a ``register(group)`` that adds its commands (to the group given,
or to the group it extends)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click
from click.exceptions import NoSuchCommand

__all__ = ["LazyGroup"]


class LazyGroup(click.Group):
    """``lazy``: command name -> the modules of monitor.cli that define it or add to it;
    ``summaries``: command name -> the first paragraph of its help, for the listing."""

    def __init__(
        self,
        *args: Any,
        lazy: Mapping[str, tuple[str, ...]],
        summaries: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)
        self.summaries = dict(summaries)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.lazy) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            found = click.Group()
            for module in self.lazy[cmd_name]:
                importlib.import_module(f"monitor.cli.{module}").register(found)
            if cmd_name in found.commands:
                self.add_command(found.commands[cmd_name])
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """An unknown name is told the closest ones, the lazy commands included."""
        try:
            return super().resolve_command(ctx, args)
        except NoSuchCommand as exc:
            known = [n for n in self.list_commands(ctx) if n in self.lazy or self._shown(n)]
            raise NoSuchCommand(exc.command_name, possibilities=known, ctx=ctx) from None

    def _shown(self, name: str) -> bool:
        command = self.commands.get(name)
        return command is not None and not command.hidden

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from ``summaries``, without importing the commands' modules."""
        names = [n for n in self.list_commands(ctx) if n not in self.commands or self._shown(n)]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name not in self.commands and name in self.summaries:
                # shortened as click shortens a command's own help
                text = click.Command(name, help=self.summaries[name]).get_short_help_str(limit)
            else:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                text = command.get_short_help_str(limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
