"""Retention: old article text goes; alert history and the identities that stop an old
entry from alerting again stay. A real poll of the sample site, on both databases."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from helpers.config import hook_url, write_config
from helpers.paths import SAMPLE_SITE
from monitor.cli import cli
from monitor.config.settings import load
from monitor.demo.server import Receiver, Reply, Site
from monitor.errors import ConfigError
from monitor.model import utcnow
from monitor.store.alerts import get_alert, list_alerts
from monitor.store.db import Database, connect
from monitor.store.outbox import list_deliveries
from monitor.store.tables import EventProfile, EventTerm
from monitor.watch.retention import prune

RETENTION = """
[stories]
corrections = true
window = "0.2s"
event_window = "0.2s"

[retention]
article_text = "0.2s"
delivery_details = "0.2s"
"""


def _history(db_url: str) -> list[tuple[int, str, str | None, list[str]]]:
    db = connect(db_url)
    try:
        return [(a.id, a.title, a.url, a.watchlists) for a in list_alerts(db, limit=1000)]
    finally:
        db.close()


def _event_rows(db: Database) -> tuple[int, int]:
    with db.session() as s:
        profiles = s.scalar(select(func.count()).select_from(EventProfile)) or 0
        terms = s.scalar(select(func.count()).select_from(EventTerm)) or 0
    return profiles, terms


def test_pruned_text_is_gone_history_stays_and_old_entries_stay_quiet(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "newsmon.toml", db_url, site, {"chat": [hook_url(hook)]}, RETENTION
    )

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        return result.exit_code, result.stdout, result.stderr

    assert invoke("poll", "--once")[0] == 0
    history = _history(db_url)
    raised = len(history)
    assert raised >= 12 and len(hook.received) == raised
    time.sleep(0.3)  # every article and delivery is now older than the retention

    code, out, _ = invoke("db", "prune", "--dry-run", "--format", "json")
    dry = json.loads(out)
    assert code == 0 and dry["dry_run"] and dry["articles"] >= 12 and dry["text_chars"] > 1000
    assert dry["deliveries"] == raised
    db = connect(db_url)
    assert all(get_alert(db, a).text for a, *_ in history)  # type: ignore[union-attr]
    profiles, terms = _event_rows(db)
    assert 0 < profiles <= dry["articles"] and terms >= profiles  # event stories weighed them
    code, out, _ = invoke("db", "prune", "--format", "json")
    done = json.loads(out)
    assert code == 0 and not done["dry_run"] and done["texts_before"] > dry["texts_before"]
    assert (done["articles"], done["deliveries"]) == (dry["articles"], raised)
    code, out, _ = invoke("db", "prune")
    assert code == 0 and out.startswith("removed the text of 0 articles")

    assert _history(db_url) == history  # alerts, titles, URLs and watchlists stay
    assert all(get_alert(db, a).text == "" for a, *_ in history)  # type: ignore[union-attr]
    deliveries = list_deliveries(db, limit=1000)
    assert len(deliveries) == raised and {d.status for d in deliveries} == {"sent"}
    assert all(d.targets == [] for d in deliveries)
    assert _event_rows(db) == (0, 0)  # what was weighed from the text went with it
    db.close()

    # the same entries again: in their own feed, and in a new feed carrying the same links
    world = (SAMPLE_SITE / "feeds" / "world.xml").read_bytes()
    site.routes["/feeds/mirror.xml"] = Reply(200, world.replace(b"{base}", site.base.encode()))
    mirror = f'[[feed]]\nname = "mirror"\nurl = "{site.base}/feeds/mirror.xml"\n'
    config.write_text(config.read_text() + "\n" + mirror)
    code, out, _ = invoke("poll", "--once", "--format", "json")
    results = {r["feed"]: r for r in json.loads(out)}
    assert code == 0 and results["mirror"]["status"] == "ok" and results["mirror"]["new"] == 7
    assert sum(r["alerts"] for r in results.values()) == 0  # no alert, and no correction
    assert _history(db_url) == history and len(hook.received) == raised

    code, _, err = invoke("db", "prune", "--older-than", "0.1s")
    assert code == 1 and "error:" in err and "[stories] window" in err and "hint:" in err


def test_retention_settings(tmp_path: Path) -> None:
    path = tmp_path / "n.toml"
    path.write_text('[retention]\narticle_text = "1d"\n')
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "retention.article_text" in str(info.value) and "[stories] window" in str(info.value)
    path.write_text('[stories]\nevent_window = "10d"\n\n[retention]\narticle_text = "5d"\n')
    with pytest.raises(ConfigError) as info:  # event profiles are weighed from the text
        load(path)
    assert "retention.article_text" in str(info.value) and "event_window" in str(info.value)
    path.write_text(
        '[stories]\nevents = false\nevent_window = "10d"\n\n[retention]\narticle_text = "5d"\n'
    )
    assert load(path).retention.article_text == 5 * 86400.0
    path.write_text('[metrics]\nlisten = "localhost"\n')
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "metrics.listen" in str(info.value) and "such as '127.0.0.1:" in str(info.value)

    path.write_text('[retention]\narticle_text = "off"\n\n[metrics]\nlisten = "[::1]:9464"\n')
    settings = load(path)
    assert settings.retention.article_text is None and settings.retention.delivery_details is None
    assert settings.metrics.listen == "[::1]:9464"

    db = connect(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    report = prune(db, settings, utcnow())  # off: touches nothing (there are no tables)
    assert (report.articles, report.deliveries, report.texts_before) == (0, 0, None)
    db.close()
