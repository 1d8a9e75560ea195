"""The command line against the database of a real poll of the sample site."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from helpers.config import hook_url, write_config
from helpers.paths import REPO
from monitor.cli import cli
from monitor.cli.reference import commands, reference
from monitor.config.settings import load
from monitor.demo.server import Receiver, Site
from monitor.pipeline.polls import sync_feeds
from monitor.store.db import connect
from monitor.store.tables import Feed


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def polled(db_url: str, site: Site, hook: Receiver, tmp_path: Path) -> Path:
    config = write_config(tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]})
    code, out, _ = invoke(config, "poll", "--once", "--format", "json")
    assert code == 0
    assert {row["feed"] for row in json.loads(out)} == {"world", "nachrichten", "novosti"}
    return config


def test_alerts_list_json_has_the_documented_fields(polled: Path) -> None:
    code, out, _ = invoke(polled, "alerts", "list", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 12
    keys = {
        "id",
        "created_at",
        "watchlists",
        "terms",
        "title",
        "url",
        "feed",
        "snippet",
        "deliveries",
    }
    assert all(keys <= set(r) for r in rows)
    assert all(r["created_at"].endswith("Z") for r in rows)
    assert all(r["deliveries"] == [{"channel": "chat", "status": "sent"}] for r in rows)
    ids = [r["id"] for r in rows]
    created = [r["created_at"] for r in rows]
    assert created == sorted(created, reverse=True) and len(set(ids)) == len(ids)


def test_alerts_list_filters(polled: Path) -> None:
    _, out, _ = invoke(polled, "alerts", "list", "--watchlist", "osce", "--format", "json")
    assert sorted(r["title"][:4] for r in json.loads(out)) == ["Moni", "OSZE", "ОБСЕ"]
    _, out, _ = invoke(
        polled, "alerts", "list", "--feed", "novosti", "--limit", "2", "--format", "json"
    )
    rows = json.loads(out)
    assert len(rows) == 2 and {r["feed"] for r in rows} == {"novosti"}
    _, out, _ = invoke(polled, "alerts", "list", "--since", "1h", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 12 and "watchlists" in table[0]
    _, out, _ = invoke(polled, "alerts", "list", "--until", "2000-01-01", "--format", "json")
    assert json.loads(out) == []
    code, _, err = invoke(polled, "alerts", "list", "--since", "yesterday")
    assert code == 2 and "24h" in err


def test_alerts_show_lists_matches_and_deliveries(polled: Path) -> None:
    _, out, _ = invoke(polled, "alerts", "list", "--watchlist", "ryabkov", "--format", "json")
    target = next(r for r in json.loads(out) if r["title"].startswith("Ryabkov says"))
    code, out, _ = invoke(polled, "alerts", "show", str(target["id"]), "--format", "json")
    shown = json.loads(out)
    assert code == 0 and shown["id"] == target["id"]
    found = {m["found"] for m in shown["matches"]}
    assert "Ryabkov" in found
    assert all(m["snippet"] and m["field"] in ("title", "text") for m in shown["matches"])
    assert shown["deliveries"][0]["status"] == "sent"
    code, text, _ = invoke(polled, "alerts", "show", str(target["id"]))
    assert code == 0 and "Matches" in text and "Deliveries" in text and "chat: sent" in text
    code, _, err = invoke(polled, "alerts", "show", "99999")
    assert code == 1 and "alerts list" in err


def test_feeds_list(polled: Path) -> None:
    code, out, _ = invoke(polled, "feeds", "list", "--format", "json")
    feeds = {f["name"]: f for f in json.loads(out)}
    assert code == 0 and set(feeds) == {"world", "nachrichten", "novosti"}
    assert feeds["world"]["entries"] == 7 and feeds["world"]["status"] == "ok"
    assert (
        feeds["world"]["last_poll"] and feeds["world"]["next_check"] > feeds["world"]["last_poll"]
    )
    code, out, _ = invoke(polled, "feeds", "list")
    assert code == 0 and "nachrichten" in out


def test_notify_test_reports_each_target_and_masks_secrets(
    site: Site, hook: Receiver, tmp_path: Path
) -> None:
    good = hook_url(hook, "Hunter2Secret")
    bad = "json://bot:Hunter2Secret@127.0.0.1:9/nothing-listens"
    config = write_config(
        tmp_path / "n.toml",
        f"sqlite:///{tmp_path}/x.db",
        site,
        {"good": [good], "mixed": [good, bad]},
    )
    code, out, _ = invoke(config, "notify", "test", "good")
    assert code == 0 and out.startswith("ok") and len(hook.received) == 1
    code, out, err = invoke(config, "notify", "test", "mixed", "--format", "json")
    results = json.loads(out)["results"]
    assert code == 1 and [r["ok"] for r in results] == [True, False]
    assert "Hunter2Secret" not in out + err
    code, _, err = invoke(config, "notify", "test", "nope")
    assert code == 1 and "good" in err


def test_config_check_reports_errors_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[http]\ntimeout = "soon"\n\n[[feed]]\nname = "x"\nurl = "ftp://example.org"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(bad), "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{bad}:2:" in proc.stderr and "http.timeout" in proc.stderr
    assert f"{bad}:6:" in proc.stderr and "feed[0].url" in proc.stderr
    assert "hint:" in proc.stderr
    good = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(REPO / "config" / "newsmon.toml"),
            "config",
            "check",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr  # the example needs no secret to start
    assert good.stdout.startswith(f"config OK: {REPO / 'config' / 'newsmon.toml'} (from --config)")


HELP_COMMANDS = [
    [],
    ["run"],
    ["poll"],
    ["demo"],
    ["config"],
    ["config", "check"],
    ["db"],
    ["db", "upgrade"],
    ["db", "prune"],
    ["db", "reindex"],
    ["status"],
    ["stories"],
    ["stories", "list"],
    ["stories", "show"],
    ["feeds"],
    ["feeds", "list"],
    ["feeds", "show"],
    ["feeds", "add"],
    ["feeds", "remove"],
    ["feeds", "discover"],
    ["feeds", "import"],
    ["feeds", "export"],
    ["init"],
    ["alerts"],
    ["alerts", "list"],
    ["alerts", "show"],
    ["alerts", "search"],
    ["alerts", "export"],
    ["alerts", "serve"],
    ["notify"],
    ["notify", "test"],
    ["deliveries"],
    ["deliveries", "list"],
    ["deliveries", "retry"],
    ["watchlists"],
    ["watchlists", "show"],
    ["watchlists", "test"],
    ["watchlists", "backfill"],
    ["stats"],
    ["completion"],
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "newsmon")
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    example = result.output.split("Example:\n", 1)
    assert len(example) == 2, f"`newsmon {' '.join(command)} --help` has no Example: block"
    assert "newsmon " in example[1]


def test_the_help_test_lists_every_command() -> None:
    every = {" ".join(path) for path, _ in commands()}
    assert every == {" ".join(c) for c in HELP_COMMANDS}, "add new commands to HELP_COMMANDS"


def test_cli_reference_is_current() -> None:
    written = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == reference(), (
        "docs/cli.md is stale; regenerate it: python -m monitor.cli.reference > docs/cli.md"
    )


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _newsmon_completion newsmon"),
        ("zsh", "#compdef newsmon"),
        ("fish", "complete --no-files --command newsmon"),
    ],
    ids=["bash", "zsh", "fish"],
)
def test_completion_prints_the_script(shell: str, marker: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0 and marker in result.output
    assert f"_NEWSMON_COMPLETE={shell}_complete" in result.output
    assert CliRunner().invoke(cli, ["completion", "tcsh"]).exit_code == 2


def _complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash would be offered for the last word of ``words`` (click's protocol)."""
    parts = words.split(" ")
    variables = {
        "_NEWSMON_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    if env is None:
        result = CliRunner().invoke(cli, [], prog_name="newsmon", env=variables)
        assert result.exit_code == 0
        output = result.output
    else:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "newsmon")],
            env={**env, **variables},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        output = proc.stdout
    return [line.split(",", 1)[1] for line in output.splitlines()]


def test_completion_of_commands_through_the_installed_script() -> None:
    assert _complete("newsmon al", dict(os.environ)) == ["alerts"]


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("newsmon d", ["db", "deliveries", "demo"]),
        ("newsmon alerts ", ["export", "list", "search", "serve", "show"]),
        ("newsmon alerts export --format ", ["atom", "csv", "json"]),
        ("newsmon completion ", ["bash", "zsh", "fish"]),
    ],
)
def test_completion_offers(words: str, offered: list[str]) -> None:
    assert sorted(_complete(words)) == sorted(offered)


@pytest.mark.parametrize("fmt", ["json", "table"], ids=["json", "table"])
def test_poll_once_says_which_feeds_another_instance_holds_and_until_when(
    db_url: str, site: Site, tmp_path: Path, fmt: str
) -> None:
    config = write_config(tmp_path / "n.toml", db_url, site, {})
    assert invoke(config, "db", "upgrade")[0] == 0
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    db = connect(db_url)
    try:
        db.migrate()
        sync_feeds(db, load(config), datetime.now(UTC))
        with db.session() as s:  # an instance that died mid-poll, its lease still live
            s.execute(
                update(Feed)
                .where(Feed.name == "novosti")
                .values(lease_owner="gone:4242:abcdef", lease_until=until)
            )
    finally:
        db.close()
    code, out, err = invoke(config, "poll", "--once", "--format", fmt)
    assert code == 0
    stamp = until.isoformat().replace("+00:00", "Z")
    assert f"skipped feed novosti: leased by gone:4242:abcdef until {stamp}" in err
    if fmt == "json":
        rows = {r["feed"]: r for r in json.loads(out)}
        assert rows["novosti"]["status"] == "skipped"
        assert rows["novosti"]["polled_by"] == "gone:4242:abcdef"
        assert rows["novosti"]["lease_until"] == stamp
        assert rows["world"]["status"] != "skipped" and rows["world"]["polled_by"] is None
    else:
        assert "novosti" in out and "skipped" in out
