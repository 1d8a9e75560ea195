"""Each kind of channel against a real server on 127.0.0.1: SMTP (plain, STARTTLS and
implicit TLS with login), Mosquitto (MQTT), an HTTP receiver (json:// and form://) and
a Synapse homeserver (Matrix)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from helpers.config import write_config
from helpers.delivery import NOVOSTI_ALERTS, raised, statuses
from helpers.servers import MAIL_USER, Homeserver, MailServer, Subscriber
from monitor.deliver.drain import drain
from monitor.demo.server import Receiver, Site
from monitor.store.alerts import list_alerts

# aiosmtpd cannot tell that an implicit-TLS connection is encrypted, so it warns about AUTH
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """What a channel receives does not depend on the database: these run on SQLite only."""
    return f"sqlite:///{tmp_path / 'newsmon.db'}"


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the server to receive")
        time.sleep(0.05)


def test_mail_is_delivered_once_per_alert(
    sqlite_url: str, site: Site, mail: MailServer, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "n.toml",
        sqlite_url,
        site,
        {"desk": [mail.url()]},
        channel_options={"desk": 'format = "html"'},
    )
    with raised(config) as ctx:
        result = drain(ctx.db, ctx.settings, ctx.clock())
        titles = {a.title for a in list_alerts(ctx.db)}
    assert result.sent == NOVOSTI_ALERTS
    subjects = mail.subjects()
    assert len(subjects) == NOVOSTI_ALERTS
    assert {s.split(": ", 1)[1] for s in subjects} == titles
    # one login per connection: a pass keeps its connections (monitor/deliver/notify.py)
    assert 1 <= mail.sessions() <= NOVOSTI_ALERTS
    assert mail.logins == ([] if mail.security == "none" else [MAIL_USER] * mail.sessions())
    body = mail.messages[0].get_body(("html",))
    assert body is not None and "<blockquote>" in body.get_content()


def test_mail_server_down_for_a_while_then_every_alert_arrives_once(
    db_url: str, site: Site, tls_context: object, tmp_path: Path
) -> None:
    server = MailServer("starttls", tls_context)  # type: ignore[arg-type]
    config = write_config(tmp_path / "n.toml", db_url, site, {"desk": [server.url()]})
    config.write_text(config.read_text().replace("max_attempts = 3", "max_attempts = 10"))
    with raised(config) as ctx:
        start = ctx.clock()
        for minute in range(3):  # down: connection refused, every time
            result = drain(ctx.db, ctx.settings, start + timedelta(minutes=minute))
            assert result.failed == NOVOSTI_ALERTS and result.sent == 0
        assert statuses(ctx) == ["failed"] * NOVOSTI_ALERTS
        server.start()
        try:
            back = drain(ctx.db, ctx.settings, start + timedelta(minutes=5))
            again = drain(ctx.db, ctx.settings, start + timedelta(hours=7))
        finally:
            server.stop()
        titles = sorted(a.title for a in list_alerts(ctx.db))
        assert statuses(ctx) == ["sent"] * NOVOSTI_ALERTS
    assert back.sent == NOVOSTI_ALERTS and again.sent == again.failed == 0
    assert sorted(s.split(": ", 1)[1] for s in server.subjects()) == titles  # each once


def test_mqtt_to_the_local_mosquitto_broker(
    sqlite_url: str, site: Site, mqtt: Subscriber, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "n.toml", sqlite_url, site, {"wire": [mqtt.url()]})
    with raised(config) as ctx:
        result = drain(ctx.db, ctx.settings, ctx.clock())
        ids = {a.id for a in list_alerts(ctx.db)}
    assert result.sent == NOVOSTI_ALERTS
    wait_for(lambda: len(mqtt.received) >= NOVOSTI_ALERTS)
    found = {int(m) for p in mqtt.received for m in re.findall(rb"newsmon alerts show (\d+)", p)}
    assert found == ids and len(mqtt.received) == NOVOSTI_ALERTS


@pytest.mark.parametrize("scheme", ["json", "form"])
def test_chat_style_webhooks(
    sqlite_url: str, site: Site, hook: Receiver, tmp_path: Path, scheme: str
) -> None:
    url = f"{scheme}://{hook.base[7:]}/hook"
    config = write_config(
        tmp_path / "n.toml",
        sqlite_url,
        site,
        {"chat": [url]},
        channel_options={"chat": 'format = "markdown"'},
    )
    with raised(config) as ctx:
        drain(ctx.db, ctx.settings, ctx.clock())
        titles = {a.title for a in list_alerts(ctx.db)}
    assert len(hook.received) == NOVOSTI_ALERTS
    for _, headers, body in hook.received:
        if scheme == "json":
            assert headers["Content-Type"].startswith("application/json")
            payload = {k: str(v) for k, v in json.loads(body).items()}
        else:
            assert headers["Content-Type"].startswith("application/x-www-form-urlencoded")
            payload = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        assert payload["title"].split(": ", 1)[1] in titles
        assert "Matched:" in payload["message"]


def test_matrix_room_on_a_real_synapse(
    sqlite_url: str, site: Site, synapse: Homeserver, tmp_path: Path
) -> None:
    before = len(synapse.messages())
    config = write_config(
        tmp_path / "n.toml",
        sqlite_url,
        site,
        {"room": [synapse.url()]},
        channel_options={"room": 'format = "markdown"'},
    )
    with raised(config) as ctx:
        result = drain(ctx.db, ctx.settings, ctx.clock())
        ids = {a.id for a in list_alerts(ctx.db)}
    assert result.sent == NOVOSTI_ALERTS
    messages = synapse.messages()[before:]
    assert len(messages) == NOVOSTI_ALERTS
    footers = (re.findall(r"newsmon alerts show (\d+)", c["body"]) for c in messages)
    assert {int(m) for found in footers for m in found} == ids
    assert all(c["format"] == "org.matrix.custom.html" for c in messages)
    assert all("<blockquote>" in c["formatted_body"] for c in messages)  # markdown rendered


def test_matrix_wrong_password_fails_without_leaking_it(
    sqlite_url: str, site: Site, synapse: Homeserver, tmp_path: Path
) -> None:
    wrong = "Wr0ng-Matrix-Secret"
    config = write_config(tmp_path / "n.toml", sqlite_url, site, {"room": [synapse.url(wrong)]})
    with raised(config) as ctx:
        result = drain(ctx.db, ctx.settings, ctx.clock())
        errors = [d.last_error or "" for a in list_alerts(ctx.db) for d in a.deliveries]
    assert result.failed == NOVOSTI_ALERTS
    assert all(errors) and not any(wrong in e for e in errors)
