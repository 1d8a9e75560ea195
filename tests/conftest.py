"""Shared fixtures: databases (SQLite always, PostgreSQL when NEWSMON_TEST_DATABASE_URL is
set), a local site serving the bundled sample feeds, a webhook receiver and an SMTP server.
What tests share besides fixtures is in tests/helpers/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from helpers.db import BACKENDS, PG_URL, reset_postgres
from helpers.hostile import polled  # noqa: F401  (a real poll with a hostile feed)
from helpers.paths import SAMPLE_SITE
from helpers.servers import (  # noqa: F401  (delivery fixtures)
    Mailbox,
    free_port,
    mail,
    mqtt,
    smtp_controller,
    synapse,
    tls_context,
)
from monitor.demo.server import Receiver, Site

# Property tests: quick by default and in CI; HYPOTHESIS_PROFILE=deep for a long local run.
settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", settings.get_profile("default"), derandomize=True)
settings.register_profile("deep", settings.get_profile("default"), max_examples=5000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty database; every database test runs once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsmon.db'}"
    assert PG_URL
    reset_postgres(PG_URL)
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


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    box = Mailbox()
    box.port = free_port()
    controller = smtp_controller(box, box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
