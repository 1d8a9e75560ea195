"""``newsmon completion``: the shell completion script, from click."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["register"]

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for bash, zsh or fish.

    Commands, options, their choices and file names then complete on Tab.
    Install it once (the newsmon command must be on PATH), then open a new shell:

    \b
      bash  newsmon completion bash > ~/.local/share/bash-completion/completions/newsmon
      zsh   newsmon completion zsh > ~/.zfunc/_newsmon
            (and in ~/.zshrc, before compinit: fpath+=~/.zfunc)
      fish  newsmon completion fish > ~/.config/fish/completions/newsmon.fish

    \b
    Example:
        mkdir -p ~/.local/share/bash-completion/completions
        newsmon completion bash > ~/.local/share/bash-completion/completions/newsmon
        eval "$(newsmon completion bash)"
    """
    script = get_completion_class(shell)
    assert script is not None  # every choice is a shell click knows
    root = ctx.find_root().command
    click.echo(script(root, {}, "newsmon", "_NEWSMON_COMPLETE").source())


def register(group: click.Group) -> None:
    group.add_command(completion)
