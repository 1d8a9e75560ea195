"""Groups whose commands live in other modules of monitor.cli, imported on first use.

A command that reads the history should not pay for importing the daemon, the fetcher
and the scheduler: ``newsmon alerts list`` imports what listing needs and no more.
Each module named has a ``register(group)`` that adds its commands (to the group given,
or to the group it extends)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

__all__ = ["LazyGroup"]


class LazyGroup(click.Group):
    """``lazy``: command name -> the modules of monitor.cli that define it or add to it."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, ...]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

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
