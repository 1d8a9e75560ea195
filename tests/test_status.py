"""``newsmon status``: a health summary for people and monitoring scripts (exit 2 when
something needs attention), on a real poll of the sample site."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from helpers.config import hook_url, write_config
from monitor.cli import cli
from monitor.config.settings import load
from monitor.deliver.drain import drain
from monitor.demo.server import Receiver, Reply, Site
from monitor.model import utcnow
from monitor.pipeline.assembly import close_context, open_context
from monitor.pipeline.cycle import run_cycle
from monitor.watch.health import check_feeds

REFUSED = "json://127.0.0.1:9/nothing-listens"


def _status(config: Path, *args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(cli, ["--config", str(config), "status", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_status_reports_health_and_exits_2_on_trouble(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    channels = {"chat": [hook_url(hook)], "pager": [REFUSED]}
    extra = "[health]\nfailures = 2\n"
    config = write_config(tmp_path / "newsmon.toml", db_url, site, channels, extra=extra)
    code, found = _status(config)  # no database yet (SQLite), or no tables (PostgreSQL)
    assert code == 2 and not found["ok"] and "newsmon db upgrade" in found["problems"][0]

    settings = load(config)
    ctx = open_context(settings)
    try:
        run_cycle(ctx, is_forced=True)  # polled, and nothing delivered yet
        code, found = _status(config)
        assert code == 0 and found["ok"] and found["problems"] == []
        assert found["database"]["schema"] == found["database"]["newest"]
        assert found["feeds"] == {
            "enabled": 3,
            "ok": 3,
            "failing": 0,
            "silent": 0,
            "not_polled_yet": 0,
            "failing_names": [],
            "erroring_names": [],
            "silent_names": [],
        }
        assert found["last_success_at"].endswith("Z") and found["alerts_24h"] == 12
        assert found["outbox"]["pending"] == 24 and found["outbox"]["oldest_due_age"] >= 0
        code, found = _status(config, "--queue-age", "0.01s")
        assert code == 2 and "the oldest due delivery has waited" in found["problems"][0]

        drain(ctx.db, settings, utcnow())  # chat takes them, pager refuses: retried later
        code, found = _status(config)
        box = found["outbox"]
        assert code == 0 and found["ok"]
        assert (box["pending"], box["held"], box["retrying"], box["dead"]) == (0, 0, 12, 0)

        # a feed fails; the others have had no new entry for longer than --silent-after
        site.routes["/feeds/world.xml"] = Reply(503, b"down for maintenance")
        assert run_cycle(ctx, names=["world"], is_forced=True)[0].status == "error"
        assert _status(config)[1]["feeds"]["erroring_names"] == ["world"]  # once: not failing
        assert run_cycle(ctx, names=["world"], is_forced=True)[0].status == "error"
        check_feeds(ctx.db, ctx.settings, utcnow())  # the second failure in a row: failing
    finally:
        close_context(ctx)
    code, found = _status(config, "--silent-after", "0.01s")
    assert code == 2 and not found["ok"]
    assert found["feeds"]["failing_names"] == ["world"]
    assert found["feeds"]["silent_names"] == ["nachrichten", "novosti"]
    problems = " | ".join(found["problems"])
    assert "1 feed(s) failing: world" in problems and ": nachrichten, novosti" in problems

    text = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert text.exit_code == 2 and text.stdout.startswith("newsmon: needs attention")
    assert "failing: world" in text.stdout and "12 retrying" in text.stdout


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://newsmon@127.0.0.1:9/newsmon", "127.0.0.1"),
        ("sqlite:///{tmp}/nothing/here.db", "no database file at"),
    ],
    ids=["refused", "no-file"],
)
def test_status_when_the_database_does_not_answer(tmp_path: Path, url: str, reason: str) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text(f'[database]\nurl = "{url.format(tmp=tmp_path)}"\n')
    code, found = _status(config)
    assert code == 2 and not found["ok"] and found["database"]["reachable"] is False
    assert found["problems"][0].startswith("database:") and reason in found["problems"][0]
    assert found["feeds"] == {} and not (tmp_path / "nothing").exists()  # nothing created
    result = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert result.exit_code == 2 and "unreachable" in result.stdout
