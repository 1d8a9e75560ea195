"""The command-line reference, docs/cli.md, generated from every command's ``--help``.

    python -m monitor.cli.reference > docs/cli.md

A test regenerates it and fails when docs/cli.md is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

__all__ = ["WIDTH", "commands", "help_text", "reference"]

WIDTH = 80  # help is wrapped at this width (click's own cap) whatever the terminal
COMMAND = "python -m monitor.cli.reference > docs/cli.md"


def commands(
    command: click.Command | None = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under ``newsmon``, with its words after ``newsmon``."""
    if command is None:
        from monitor.cli import cli

        command = cli
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in sorted(command.list_commands(ctx)):
            found = command.get_command(ctx, name)
            assert found is not None, name
            yield from commands(found, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    """What ``newsmon PATH... --help`` prints, at a fixed width."""
    from monitor.cli import cli

    ctx = click.Context(
        cli,
        info_name="newsmon",
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **cli.context_settings,
    )
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, name)
        assert found is not None, name
        command = found
        ctx = click.Context(command, info_name=name, parent=ctx)
    return command.get_help(ctx)


def reference() -> str:
    lines = [
        "# Command-line reference",
        "",
        f"Generated from `--help` by `{COMMAND}`; do not edit by hand.",
        "Every command also takes the global options of `newsmon` (`--config`, `--log-level`),",
        "before or after its name.",
        "",
    ]
    found = list(commands())
    for path, _ in found:
        title = " ".join(("newsmon", *path))
        lines.append(f"- [`{title}`](#{title.replace(' ', '-')})")
    for path, _ in found:
        title = " ".join(("newsmon", *path))
        lines += ["", f"## {title}", "", "```text", help_text(path).rstrip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
