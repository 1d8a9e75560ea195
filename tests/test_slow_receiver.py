"""A slow receiver: it takes the message at once and answers seconds later. The channel's
timeout waits for the answer, so the message is not sent again, and the delivery runs the
daemon's scheduler starts meanwhile are skipped quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from helpers.config import hook_url, route_only, write_config
from helpers.paths import REPO
from monitor.deliver.notify import send
from monitor.deliver.render import Message
from monitor.demo.server import Receiver, Site
from monitor.store.alerts import list_alerts
from monitor.store.db import connect
from monitor.store.outbox import list_deliveries

SLOW = 12.0  # seconds the receiver takes to answer, over apprise's own 4 s timeout
MESSAGE = Message(title="slow", body="a test", format="text")


def test_a_receiver_answering_after_12_s_gets_each_alert_once(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    with Receiver() as slow:
        slow.delay = SLOW
        channel = f'\n[channel.slow]\nurls = ["{hook_url(slow)}"]\n'
        config = write_config(tmp_path / "n.toml", db_url, site, {}, extra=channel)
        route_only(config, "ryabkov", ["slow"])  # two alerts: one from each feed left
        novosti = f'[[feed]]\nname = "novosti"\nurl = "{site.base}/feeds/novosti.xml"\n'
        text = config.read_text().replace(novosti, "")
        config.write_text(text.replace("max_attempts = 3", 'max_attempts = 3\ninterval = "1s"'))
        log = tmp_path / "daemon.log"
        env = {**os.environ, "NEWSMON_CONFIG": str(config)}
        env.pop("NOTIFY_SOCKET", None)
        with log.open("w") as stderr:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--log-level", "debug", "run"],
                env=env,
                cwd=REPO,
                stderr=stderr,
            )
        deadline = time.monotonic() + 240
        while "msg=started" not in log.read_text():  # migrated, scheduler running
            assert daemon.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        db = connect(db_url)
        try:
            rows = list_deliveries(db)
            while not (len(rows) == 2 and {r.status for r in rows} <= {"sent", "dead"}):
                assert daemon.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, f"not drained: {rows}"
                time.sleep(0.5)
                rows = list_deliveries(db)
            routed = {f"[newsmon] ryabkov: {a.title}" for a in list_alerts(db) if a.deliveries}
        finally:
            daemon.terminate()
            assert daemon.wait(timeout=60) == 0
            db.close()
    titles = [json.loads(body)["title"] for _, _, body in slow.received]
    assert len(routed) == 2 and sorted(titles) == sorted(routed)
    assert [r.status for r in rows] == ["sent", "sent"] and all(r.attempts <= 1 for r in rows)
    lines = log.read_text().splitlines()
    assert not [ln for ln in lines if "delivery failed" in ln]
    skipped = [ln for ln in lines if "maximum number of running instances" in ln]
    # runs were skipped while the slow sends went on, at debug level only
    assert skipped and all(ln.startswith("level=debug") for ln in skipped)


def test_a_timeout_in_the_url_wins_over_the_channel_and_is_not_shown() -> None:
    with Receiver() as slow:
        slow.delay = 2.0
        url = hook_url(slow)
        [short] = send([url], MESSAGE, timeout=1.0)
        [own] = send([f"{url}?rto=10"], MESSAGE, timeout=1.0)
    assert not short.is_ok and own.is_ok and len(slow.received) == 2
    assert "rto" not in own.target and "10" not in own.target.split(":")[-1]
