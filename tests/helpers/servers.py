"""Real servers for the delivery tests, all on 127.0.0.1: a plain SMTP mailbox, an SMTP
server with STARTTLS, implicit TLS and login (aiosmtpd, certificates from trustme), the
local Mosquitto broker, and a Matrix homeserver (Synapse from PyPI, SQLite) started once
per session. The fixtures are registered in tests/conftest.py."""

from __future__ import annotations

import hashlib
import hmac
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
MAIL_USER, MAIL_PASSWORD = "newsmon", "Mail-Pa55-Secret"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- SMTP


def smtp_controller(handler: Any, port: int, **kwargs: Any) -> Any:
    """An aiosmtpd controller on 127.0.0.1 whose ``stop()`` first closes the connections
    it still holds. aiosmtpd's own stop ends its loop with them open (a client that kept
    its connection, or whose QUIT the server had not read yet), and the collector later
    reports each socket as unclosed in whichever test happens to be running."""
    from aiosmtpd.controller import Controller

    class Closing(Controller):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(handler, hostname="127.0.0.1", port=port, **kwargs)
            self.made: list[Any] = []

        def factory(self) -> Any:
            smtp = super().factory()
            self.made.append(smtp)
            return smtp

        def stop(self, no_assert: bool = False) -> None:
            if self._thread is not None and self.loop.is_running():
                closed = threading.Event()
                self.loop.call_soon_threadsafe(self._close_connections, closed)
                closed.wait(5)
            super().stop(no_assert)

        def _close_connections(self, closed: threading.Event) -> None:
            for smtp in self.made:
                for transport in (smtp.transport, getattr(smtp, "_original_transport", None)):
                    if transport is not None and not transport.is_closing():
                        transport.abort()
            # after the callbacks that abort() queued, which close the sockets
            self.loop.call_soon(closed.set)

    return Closing()


class Mailbox:
    """Messages received by the local SMTP server (the ``smtp`` fixture)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class MailServer:
    """aiosmtpd on a fixed port that a test can stop and start again. ``security`` is
    "none" (mailto://), "starttls" or "ssl" (mailtos://); with TLS, login is required."""

    def __init__(self, security: str, tls_context: ssl.SSLContext | None) -> None:
        self.security = security
        self.tls_context = tls_context
        self.host, self.port = "127.0.0.1", free_port()
        self.messages: list[Message] = []
        self.logins: list[str] = []
        self.peers: list[tuple[str, int]] = []  # each message's client address: its connection
        self.quits = 0
        self.lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.quits += 1
        return "221 Bye"

    def sessions(self) -> int:
        """Connections that carried a message."""
        with self.lock:
            return len(set(self.peers))

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            MAIL_USER.encode(),
            MAIL_PASSWORD.encode(),
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.security == "starttls":
            kwargs = {"tls_context": self.tls_context, "require_starttls": True}
        elif self.security == "ssl":
            # the whole connection is TLS, which aiosmtpd does not see: allow AUTH on it
            kwargs = {"ssl_context": self.tls_context, "auth_require_tls": False}
        if self.security != "none":
            kwargs |= {"authenticator": self._authenticate, "auth_required": True}
        self._controller = smtp_controller(self, self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self) -> str:
        query = "from=newsmon@example.org&to=desk@example.org"
        if self.security == "none":
            return f"mailto://{self.host}:{self.port}?{query}"
        mode = "starttls" if self.security == "starttls" else "ssl"
        return (
            f"mailtos://{MAIL_USER}:{MAIL_PASSWORD}@{self.host}:{self.port}"
            f"?{query}&mode={mode}&verify=no"
        )

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages]


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 from a throwaway CA (trustme)."""
    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(
    params=["none", "starttls", "ssl"], ids=["mailto", "mailtos-starttls", "mailtos-ssl"]
)
def mail(request: pytest.FixtureRequest, tls_context: ssl.SSLContext) -> Iterator[MailServer]:
    server = MailServer(request.param, tls_context)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- MQTT


@dataclass
class Subscriber:
    """A paho client subscribed to one fresh topic on the local Mosquitto broker."""

    topic: str
    received: list[bytes] = field(default_factory=list)

    def url(self) -> str:
        return f"mqtt://{MQTT_HOST}:{MQTT_PORT}/{self.topic}"


@pytest.fixture
def mqtt() -> Iterator[Subscriber]:
    import paho.mqtt.client as paho

    sub = Subscriber(f"newsmon/test/{uuid.uuid4().hex}")
    subscribed = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, msg: sub.received.append(msg.payload)
    client.on_subscribe = lambda *_: subscribed.set()
    try:
        client.connect(MQTT_HOST, MQTT_PORT)
    except OSError as exc:
        pytest.fail(f"the Mosquitto broker at {MQTT_HOST}:{MQTT_PORT} is not running: {exc}")
    client.subscribe(sub.topic, qos=1)
    client.loop_start()
    assert subscribed.wait(10), "no SUBACK from Mosquitto"
    try:
        yield sub
    finally:
        client.loop_stop()
        client.disconnect()


# ---------------------------------------------------------------- Matrix


@dataclass(frozen=True)
class Homeserver:
    base: str
    user: str
    password: str
    token: str
    room_id: str
    alias: str

    def url(self, password: str | None = None) -> str:
        port = self.base.rsplit(":", 1)[1]
        room = "%23" + self.alias
        return f"matrix://{self.user}:{password or self.password}@127.0.0.1:{port}/{room}?mode=off"

    def messages(self) -> list[dict[str, Any]]:
        reply = httpx.get(
            f"{self.base}/_matrix/client/v3/rooms/{self.room_id}/messages",
            params={"dir": "b", "limit": 100},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        reply.raise_for_status()
        events = reply.json()["chunk"]
        return [e["content"] for e in reversed(events) if e["type"] == "m.room.message"]


def _synapse_config(folder: Path, port: int, secret: str) -> Path:
    import yaml

    config = folder / "homeserver.yaml"
    subprocess.run(
        [sys.executable, "-m", "synapse.app.homeserver", "--server-name", "localhost"]
        + ["--config-path", str(config), "--generate-config", "--report-stats=no"]
        + ["--data-directory", str(folder)],
        check=True,
        capture_output=True,
        cwd=folder,
        timeout=120,
    )
    data = yaml.safe_load(config.read_text())
    lenient = {"per_second": 1000, "burst_count": 1000}
    data.update(
        listeners=[
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        registration_shared_secret=secret,
        trusted_key_servers=[],
        suppress_key_server_warning=True,
        report_stats=False,
        rc_message=lenient,
        rc_registration=lenient,
        rc_joins={"local": lenient, "remote": lenient},
        rc_login={"address": lenient, "account": lenient, "failed_attempts": lenient},
    )
    data.pop("log_config", None)
    config.write_text(yaml.safe_dump(data))
    return config


def _register(base: str, secret: str, user: str, password: str) -> str:
    """The admin API's shared-secret registration; returns an access token."""
    nonce = httpx.get(f"{base}/_synapse/admin/v1/register").json()["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
    reply = httpx.post(
        f"{base}/_synapse/admin/v1/register",
        json={"nonce": nonce, "username": user, "password": password, "mac": mac.hexdigest()},
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """A real Synapse homeserver (SQLite) on 127.0.0.1, a user and a room #desk."""
    folder = tmp_path_factory.mktemp("synapse")
    port, secret = free_port(), uuid.uuid4().hex
    config = _synapse_config(folder, port, secret)
    log = (folder / "synapse.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(config)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"synapse exited: {(folder / 'synapse.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("synapse did not answer /health within 120 s")
            time.sleep(0.2)
        user, password = "newsmon", "Matrix-Pa55-" + uuid.uuid4().hex[:8]
        token = _register(base, secret, user, password)
        room = httpx.post(
            f"{base}/_matrix/client/v3/createRoom",
            headers={"Authorization": f"Bearer {token}"},
            json={"room_alias_name": "desk", "preset": "private_chat", "name": "desk"},
        )
        room.raise_for_status()
        yield Homeserver(base, user, password, token, room.json()["room_id"], "desk")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
