"""Story growth alerts ([stories] growth = [5, 20]) through the command line and the
daemon: the real reports of the shutdown's end by three outlets (tests/fixtures/events/
basil), and two more sites republishing two of them, make five sources: one growth
update, "now reported by 5 sources", to the watchlist's channel, after its one alert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.basil import SHUTDOWN, reports, serve, serve_outlets
from helpers.paths import REPO
from monitor.cli import cli
from monitor.demo.server import Receiver, Site

GROWN = "Now reported by 5 sources in 1 language"


@pytest.fixture
def five_sources() -> Iterator[tuple[Site, list[str]]]:
    """The shutdown's three reports on their outlets' feeds, and two republished."""
    found = [r for r in reports() if r.event == SHUTDOWN]
    with Site() as site:
        urls = list(serve_outlets(site, found).values())
        by = {r.source: r for r in found}
        urls.append(serve(site, "partner", [by["nyt"].republished("Partner Post", "partner")]))
        urls.append(serve(site, "digest", [by["hpo"].republished("Wire Digest", "digest")]))
        yield site, urls


def _config(tmp_path: Path, db_url: str, urls: list[str], hook: Receiver) -> Path:
    feeds = "".join(f'[[feed]]\nname = "feed{i}"\nurl = "{u}"\n' for i, u in enumerate(urls))
    path = tmp_path / "newsmon.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[scale]
workers = 0
[http]
concurrency = 1
allow_networks = ["127.0.0.1/32"]
[defaults]
alert_backlog = true
[stories]
growth = [5, 20]
{feeds}
[channel.chat]
urls = ["json://{hook.base[7:]}/hook"]
[watchlist.shutdown]
terms = ["shutdown"]
channels = ["chat"]
""",
        encoding="utf-8",
    )
    return path


def test_poll_once_sends_one_growth_update_at_five_sources(
    db_url: str, five_sources: tuple[Site, list[str]], hook: Receiver, tmp_path: Path
) -> None:
    _, urls = five_sources
    config = str(_config(tmp_path, db_url, urls, hook))
    runner = CliRunner()
    polled = runner.invoke(cli, ["--config", config, "poll", "--once"])
    assert polled.exit_code == 0, polled.output
    listed = runner.invoke(cli, ["--config", config, "alerts", "list", "--format", "json"])
    alerts = json.loads(listed.stdout)
    assert sorted(a["kind"] for a in alerts) == ["growth", "new"]  # one story, one update
    grown = next(a for a in alerts if a["kind"] == "growth")
    assert grown["watchlists"] == ["shutdown"] and grown["diff"].startswith(GROWN)
    assert "Partner Post" in grown["diff"] and "Wire Digest" in grown["diff"]
    posted = [json.loads(body)["message"] for _, _, body in hook.received]
    assert len(posted) == 2 and sum(GROWN in m for m in posted) == 1
    shown = runner.invoke(cli, ["--config", config, "alerts", "show", str(grown["id"])])
    assert shown.exit_code == 0 and "Growth" in shown.stdout and GROWN in shown.stdout
    # polled again: nothing new, no second update for the same threshold
    assert runner.invoke(cli, ["--config", config, "poll", "--once"]).exit_code == 0
    assert len(hook.received) == 2


def test_the_daemon_sends_the_growth_update(
    db_url: str, five_sources: tuple[Site, list[str]], hook: Receiver, tmp_path: Path
) -> None:
    _, urls = five_sources
    config = _config(tmp_path, db_url, urls, hook)
    env = {**os.environ, "NEWSMON_CONFIG": str(config)}
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(name, None)
    log = tmp_path / "daemon.log"
    with log.open("w") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"], env=env, cwd=REPO, stderr=stderr_file
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(
            GROWN in json.loads(body)["message"] for _, _, body in hook.received
        ):
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        posted = [json.loads(body)["message"] for _, _, body in hook.received]
        assert sum(GROWN in m for m in posted) == 1, (posted, log.read_text()[-2000:])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(hook.received) == 2  # the story's alert and its one update
