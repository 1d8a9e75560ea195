"""Shared fixtures: databases (SQLite always, PostgreSQL when NEWSMON_TEST_DATABASE_URL is
set), a local site serving the bundled sample feeds, a webhook receiver and an SMTP server."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, make_url, text

from monitor.demo.server import Receiver, Site
from monitor.store.db import Database, migrations_dir, set_foreign_keys
from monitor.store.tables import Base
from servers import mail, mqtt, synapse, tls_context  # noqa: F401  (delivery fixtures)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SITE = REPO / "monitor" / "demo" / "site"


def _worker_database(url: str | None) -> str | None:
    """With pytest-xdist, each worker gets a PostgreSQL database of its own (made here)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


PG_URL = _worker_database(os.environ.get("NEWSMON_TEST_DATABASE_URL"))
# Property tests: quick by default and in CI; HYPOTHESIS_PROFILE=deep for a long local run.
settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", settings.get_profile("default"), derandomize=True)
settings.register_profile("deep", settings.get_profile("default"), max_examples=5000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)

# The local test servers listen on 127.0.0.1, which the SSRF guard refuses unless allowed.
ALLOW_LOCAL = '["127.0.0.1/32"]'


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS search_index"))  # not a model: see store/search
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


# the databases every database test runs on (fixtures' ``params``)
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="set NEWSMON_TEST_DATABASE_URL to also run on PostgreSQL"
        ),
    ),
]


def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = 60, every: float = 0.02
) -> None:
    """Poll ``condition`` until it holds; fail the test, naming ``what``, after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(every)


def migrate_to(db: Database, revision: str, *, is_down: bool = False) -> None:
    """Move the schema to ``revision`` (alembic's upgrade, or downgrade), run as
    Database.migrate runs alembic."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with db.engine.connect() as conn:
        set_foreign_keys(conn, is_on=False)  # SQLite batch migrations copy tables
        with conn.begin():
            cfg.attributes["connection"] = conn
            (command.downgrade if is_down else command.upgrade)(cfg, revision)
        set_foreign_keys(conn, is_on=True)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty database; every database test runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsmon.db'}"
    assert PG_URL
    _reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def site() -> Iterator[Site]:
    """The bundled sample feeds and article pages, on 127.0.0.1."""
    with Site(SAMPLE_SITE) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[Receiver]:
    """An HTTP endpoint that records webhook posts, like a chat integration."""
    with Receiver() as server:
        yield server


def hook_url(receiver: Receiver, secret: str = "") -> str:
    """The apprise json:// URL of a webhook receiver, with a secret password if given."""
    auth = f"bot:{secret}@" if secret else ""
    return f"json://{auth}{receiver.base[7:]}/hook"


class Mailbox:
    """Messages received by the local SMTP server."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def write_config(
    path: Path,
    db_url: str,
    site: Site,
    channels: dict[str, list[str]],
    extra: str = "",
    alert_backlog: bool = True,
    http: str = "",
    channel_options: dict[str, str] | None = None,
    watchlist_options: dict[str, str] | None = None,
    scale: str = "workers = 0",
) -> Path:
    """A config for the sample site: its three feeds, four watchlists, given channels.

    Parsing and extraction run in-process unless ``scale`` asks for workers: worker
    processes cost a second of start-up each; test_workers.py and test_instances.py
    test them."""
    names = list(channels)
    lines = [
        f'[database]\nurl = "{db_url}"\n',
        f"[scale]\n{scale}\n",
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n{http}\n",
        f"[defaults]\nalert_backlog = {str(alert_backlog).lower()}\n",
        '[delivery]\nretry_base = "1s"\nretry_max = "2s"\nmax_attempts = 3\n',
        f'[[feed]]\nname = "world"\nurl = "{site.base}/feeds/world.xml"\n',
        f'[[feed]]\nname = "nachrichten"\nurl = "{site.base}/feeds/nachrichten.xml"\n',
        f'[[feed]]\nname = "novosti"\nurl = "{site.base}/feeds/novosti.xml"\n',
    ]
    for name, urls in channels.items():
        quoted = ", ".join(f'"{u}"' for u in urls)
        options = (channel_options or {}).get(name, "")
        lines.append(f"[channel.{name}]\nurls = [{quoted}]\n{options}\n")
    watchlists = {
        "ukraine": ["Ukraine", "Ukrainian", "Україна", "України", "Украина", "ukrainische"],
        "nato": ["NATO", "НАТО", "OTAN"],
        "osce": ["OSCE", "OSZE", "ОБСЕ", "ОБСЄ"],
        "ryabkov": ["Ryabkov", "Riabkov", "Rjabkow", "Рябков"],
    }
    for name, terms in watchlists.items():
        t = ", ".join(f'"{x}"' for x in terms)
        c = ", ".join(f'"{x}"' for x in names)
        options = (watchlist_options or {}).get(name, "")
        lines.append(f"[watchlist.{name}]\nterms = [{t}]\nchannels = [{c}]\n{options}\n")
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def route_only(config: Path, watchlist: str, channels: list[str]) -> None:
    """In a config written with no channels, send only ``watchlist``'s alerts, to these."""
    head, tail = config.read_text(encoding="utf-8").split(f"[watchlist.{watchlist}]")
    routed = ", ".join(f'"{name}"' for name in channels)
    tail = tail.replace("channels = []", f"channels = [{routed}]", 1)
    config.write_text(f"{head}[watchlist.{watchlist}]{tail}", encoding="utf-8")
