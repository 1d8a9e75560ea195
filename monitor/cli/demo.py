"""``newsmon demo``: the pipeline on bundled sample feeds, and what it did, printed."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.alerts import alert_dict
from monitor.cli.output import counted, emit
from monitor.display import clean

if TYPE_CHECKING:
    from monitor.demo.run import DemoRun

__all__ = ["invocation", "quoted", "register", "story_lines"]


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path),
    default=Path("newsmon-demo"),
    show_default=True,
    help="Where the demo writes its config and database.",
)
def demo(workdir: Path) -> None:
    """Run the whole pipeline on bundled sample feeds served from 127.0.0.1.

    Starts a local web server with sample feeds and article pages in English, German,
    Russian and Ukrainian, and a local webhook receiver; polls twice on a fresh SQLite
    database; prints the alerts, the story that three outlets' reports of one event
    form (one alert), and what the webhook received.

    \b
    Example:
        newsmon demo
        newsmon --config newsmon-demo/newsmon.toml alerts list
        newsmon --config newsmon-demo/newsmon.toml stories list --min-sources 2
    """
    from monitor.demo.run import run_demo

    done = run_demo(workdir, _serving)
    rows = [
        {
            "feed": r.feed,
            "status": r.status,
            "new": r.new_entries,
            "alerts": len(r.alerts),
            "error": r.error,
        }
        for r in done.first
    ]
    emit(rows, "table", ["feed", "status", "new", "alerts", "error"], "first poll", main="error")
    emit(
        [alert_dict(a) for a in sorted(done.alerts, key=lambda a: a.id)],
        "table",
        ["id", "watchlists", "terms", "title", "feed", "deliveries"],
        "alerts",
        drop=["deliveries", "terms", "feed"],
    )
    again = sum(len(r.alerts) for r in done.second)
    click.echo(
        f"second poll: {again} new alerts (no duplicates), "
        f"{sum(r.status == 'not-modified' for r in done.second)} feeds not modified (304)"
    )
    for line in story_lines(done):
        click.echo(line)
    click.echo(f"webhook received {len(done.received)} message(s); the first one:")
    if done.received:
        body = json.loads(done.received[0])
        text = f"title: {body.get('title', '')}\n{body.get('message', '')}"
        for line in quoted(text, shutil.get_terminal_size().columns):
            click.echo(line)
    click.secho(f"\ndemo finished in {done.seconds:.1f}s. Explore the result:", fg="cyan")
    command = f"{invocation()} --config {shlex.quote(str(done.config_path))}"
    first_id = done.alerts[-1].id if done.alerts else 1
    for words in (
        "alerts list",
        f"alerts show {first_id}",
        *(f"stories show {s.id}" for s in done.stories[:1]),
        "feeds list",
        "alerts search NATO",  # short: each hint fits 80 columns after .venv/bin/newsmon
        "stats --since 7d",
        "status",
    ):
        click.echo(f"  {command} {words}")
    raise SystemExit(0 if done.is_ok else 1)


def story_lines(done: DemoRun) -> list[str]:
    """One line per story that several sources reported: its reports, sources,
    languages and the alerts it made ("story 1: 3 reports from 3 sources, 1 alert")."""
    lines = []
    for story in done.stories:
        sources = len({m.source for m in story.members})
        languages = len({m.language for m in story.members if m.language})
        made = done.story_alerts(story)
        new = [a for a in made if a.kind == "new"]
        grown = len(made) - len(new)
        line = (
            f"story {story.id}: {counted(len(story.members), 'report')} from "
            f"{counted(sources, 'source')} in {counted(languages, 'language')}: "
            f"{counted(len(new), 'alert')}"
        )
        line += f", {counted(grown, 'growth update')}" if grown else ""
        title = " ".join(clean(story.title).split())
        lines += [line, "  " + (title if len(title) <= 76 else title[:75] + "…")]
    return lines


def quoted(text: str, width: int) -> list[str]:
    """``text`` indented by two spaces, its lines wrapped to ``width`` columns (40 at
    least) at spaces only, so that a link stays whole and can be copied."""
    lines = []
    for line in text.splitlines():
        wrapped = textwrap.wrap(
            line, max(40, width) - 2, break_long_words=False, break_on_hyphens=False
        )
        lines += ["  " + part for part in wrapped] or ["  "]
    return lines


def _serving(feeds: str, hook: str) -> None:
    click.secho(f"demo: serving sample feeds at {feeds}", fg="cyan")
    click.secho(f"demo: webhook receiver at {hook}", fg="cyan")


def invocation() -> str:
    """How to run newsmon again, as this process was started: ``newsmon`` when that is
    the one on PATH, else the path that was run (``.venv/bin/newsmon``), or the
    interpreter with ``-m monitor``."""
    started = Path(sys.argv[0])
    if started.name != "newsmon":  # python -m monitor, or newsmon's code called in-process
        return f"{shlex.quote(_shown(Path(sys.executable)))} -m monitor"
    on_path = shutil.which("newsmon")
    if on_path and Path(on_path).resolve() == started.resolve():
        return "newsmon"
    return shlex.quote(_shown(started))


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it, else absolute."""
    absolute = path.absolute()
    try:
        shown = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
    return shown if "/" in shown else f"./{shown}"  # never looked up on PATH


def register(group: click.Group) -> None:
    group.add_command(demo)
