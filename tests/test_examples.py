"""Every ``Example:`` line of every command's ``--help``, and every command the demo
prints at its end, run as printed in a shell against the demo's database.

The demo runs once (``newsmon demo``, itself an example) in a fresh folder; the examples
run there with ``newsmon`` on PATH, ``NEWSMON_CONFIG`` naming the demo's config, and the
input files that examples name (an OPML list, an article) beside it. The one thing
replaced in a line is a config path it names (/etc/newsmon/newsmon.toml,
config/newsmon.toml): it becomes the demo's. Each top-level command's examples run in
order in one test, so that `feeds add` comes before `feeds remove`."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from monitor.cli import COMMANDS
from monitor.cli.reference import commands

BIN = Path(sys.executable).parent  # where the installed `newsmon` script is
DEMO_CONFIG = "newsmon-demo/newsmon.toml"
CONFIG_PATHS = ("/etc/newsmon/newsmon.toml", "config/newsmon.toml")

# example lines not run, and why
SKIPPED = {
    "newsmon demo": "the fixture runs it, as printed; its closing hints are run below",
    "newsmon --config /etc/newsmon/newsmon.toml run": "runs until stopped",
    "newsmon alerts serve --listen 127.0.0.1:8089": "serves until stopped",
    "curl -s http://127.0.0.1:8089/watchlist/osce.atom": "needs `alerts serve` running",
    "newsmon feeds add https://www.osce.org/rss/news --name osce-news --check": (
        "--check fetches the feed from the internet"
    ),
    "newsmon watchlists test https://example.org/story": "fetches a page from the internet",
    "newsmon feeds discover https://meduza.io/": "fetches pages from the internet",
    "newsmon feeds discover https://www.reuters.com/ --format json --no-probe": (
        "fetches pages from the internet"
    ),
    "newsmon watchlists test https://example.org/news/ryabkov-osce.html": (
        "fetches a page from the internet"
    ),
    "newsmon notify test desk": "sends a message to a real channel",
    "sudo /opt/newsmon/bin/newsmon init": "writes /etc and /var/lib; test_install.py runs it",
    "newsmon init --prefix /tmp/newsmon-test": (
        "as root it needs the service user newsmon; test_install.py runs init in a scratch prefix"
    ),
    "sudo newsmon init --state-dir /srv/newsmon --user newsmon --force": (
        "writes /etc and /srv; test_install.py runs it"
    ),
}
# example lines that exit otherwise than 0, as their help documents
EXITS = {
    "newsmon status": {0, 2},  # 2: something needs attention
    "newsmon status --format json | jq .problems": {0, 2},
    "newsmon --config newsmon-demo/newsmon.toml status": {0, 2},
    "newsmon deliveries retry 1 2": {1},  # the demo's deliveries were sent: it says so
    # 3: a feed's poll failed (the demo's site is no longer served once the demo ends)
    "newsmon poll --once": {0, 3},
    "newsmon poll --once --feed demo-world-wire --format json": {0, 3},
    "newsmon --config config/newsmon.toml poll --once": {0, 3},
}

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subscriptions</title></head><body>
<outline text="News"><outline type="rss" text="OSCE news" xmlUrl="https://www.osce.org/rss/news"/>
</outline></body></opml>
"""
ARTICLE = """<html><head><title>NATO ministers meet</title></head><body><article>
<h1>NATO ministers meet</h1><p>NATO foreign ministers met in Brussels on Tuesday to agree
on support for Ukraine over the winter, and to discuss the OSCE's monitoring mission.</p>
</article></body></html>
"""


def examples(command: click.Command) -> list[str]:
    """The lines of the ``Example:`` block of ``command``'s help."""
    text = inspect.cleandoc(command.help or "")
    if "Example:" not in text:
        return []
    block = text.split("Example:", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def by_command() -> dict[str, list[str]]:
    """Top-level command -> the example lines of it and its subcommands, in order."""
    found: dict[str, list[str]] = {"newsmon": []}
    for path, command in commands():
        found.setdefault(path[0] if path else "newsmon", []).extend(examples(command))
    return found


def run(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    for path in CONFIG_PATHS:
        line = line.replace(f"--config {path}", f"--config {DEMO_CONFIG}")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "NEWSMON_CONFIG": DEMO_CONFIG,
        "HOME": str(cwd),
        "COLUMNS": "120",
    }
    env.pop("NEWSMON_DATABASE_URL", None)
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder where ``newsmon demo`` ran, and what it printed."""
    folder = tmp_path_factory.mktemp("first-day")
    done = subprocess.run(
        [str(BIN / "newsmon"), "demo"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # the OSCE feed the `feeds import` examples add is the one `feeds remove` removes
    (folder / "subscriptions.opml").write_text(OPML, encoding="utf-8")
    (folder / "article.html").write_text(ARTICLE, encoding="utf-8")
    yield folder, done.stdout


def test_the_listed_skips_and_exits_are_examples() -> None:
    lines = {line for found in by_command().values() for line in found}
    assert (
        set(SKIPPED) <= lines and set(EXITS) - {f"newsmon --config {DEMO_CONFIG} status"} <= lines
    )


@pytest.mark.parametrize("name", ["newsmon", *sorted(COMMANDS)])
def test_every_help_example_runs_as_printed(demo: tuple[Path, str], name: str) -> None:
    folder, _ = demo
    lines = by_command()[name]
    failed = []
    for line in lines:
        if line in SKIPPED or ("| jq " in line and shutil.which("jq") is None):
            continue  # the reason is listed; or jq, which some examples pipe into, is missing
        done = run(line, folder)
        if done.returncode not in EXITS.get(line, {0}):
            failed.append(f"{line}\n  exit {done.returncode}: {done.stderr.strip()[-600:]}")
    assert not failed, "\n".join(failed)


def test_the_demo_hints_run_as_printed(demo: tuple[Path, str]) -> None:
    folder, printed = demo
    hints = printed.split("Explore the result:", 1)[1].strip().splitlines()
    assert len(hints) == 7
    assert any(" stories show " in h for h in hints)  # the demo's event story
    # the path that was run, since newsmon need not be on PATH
    assert all(h.strip().startswith(f"{BIN / 'newsmon'} --config ") for h in hints)
    for hint in hints:
        line = hint.strip().replace(f"{BIN / 'newsmon'} ", "newsmon ", 1)
        done = run(hint.strip(), folder)
        assert done.returncode in EXITS.get(line, {0}), (hint, done.stderr)
        assert done.stdout.strip(), hint


def test_the_demo_messages_name_a_command_that_runs(demo: tuple[Path, str]) -> None:
    folder, printed = demo
    footer = re.findall(r"^\s*(newsmon alerts show (\d+))$", printed, re.MULTILINE)
    assert footer, printed
    command, alert = footer[0]
    done = run(command, folder)
    assert done.returncode == 0 and done.stdout.startswith(f"Alert {alert}: "), done


def test_the_demo_quotes_a_message_within_the_terminal_width() -> None:
    from monitor.cli.demo import quoted

    link = "<http://127.0.0.1:8080/articles/a-very-long-address-that-no-line-can-hold.html>"
    text = f"title: [newsmon] nato: NATO-Außenminister beraten\n**NATO**\n{link}\n\n" + (
        "Matched: ukraine ← Україна \\(text\\); ukraine ← України \\(text\\); nato ← НАТО"
    )
    lines = quoted(text, 50)
    assert all(line.startswith("  ") for line in lines)
    assert [line for line in lines if len(line) > 50] == ["  " + link]  # kept whole
    assert " ".join(" ".join(lines).split()) == " ".join(text.split())  # nothing lost
    assert lines[lines.index("  " + link) + 1] == "  "  # the empty line stays
    assert len(quoted(text, 10)) == len(quoted(text, 40))  # never narrower than 40


def test_the_demo_names_the_newsmon_that_was_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.cli.demo import invocation

    script = tmp_path / ".venv" / "bin" / "newsmon"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    assert invocation() == ".venv/bin/newsmon"  # as after `make demo`
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert invocation() == "newsmon"  # the one on PATH
    monkeypatch.setattr(sys, "argv", ["/elsewhere/monitor/__main__.py", "demo"])
    assert invocation() == f"{sys.executable} -m monitor"
