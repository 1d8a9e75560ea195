"""What a `poll --once` with nothing new imports: none of the libraries it has no use
for (apprise when nothing is to be sent, numpy when no text is fingerprinted or no
language detected, rich and pygments that httpx would bring along, trafilatura when no
page is extracted, feedparser when no feed changed, APScheduler and alembic), nor the
stage that stores new entries (monitor.pipeline.entry and what it needs) nor lxml when
no feed changed: each costs every run its import time."""

from __future__ import annotations

from pathlib import Path

from helpers.config import hook_url, write_config
from helpers.interpreter import cli_imports
from monitor.demo.server import Receiver, Site

HEAVY = (
    "apprise",
    "numpy",
    "rich",
    "pygments",
    "trafilatura",
    "apscheduler",
    "alembic",
    "py3langid",
    "feedparser",
    "lxml",
    "monitor.pipeline.entry",
    "monitor.store.entries",
)


def _poll(config: Path) -> dict[str, object]:
    found, _ = cli_imports(["--config", str(config), "poll", "--once", "--format", "json"], HEAVY)
    return found


def test_a_poll_with_nothing_new_imports_no_library_it_does_not_use(
    site: Site, hook: Receiver, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'n.db'}"
    config = write_config(tmp_path / "n.toml", db_url, site, {"desk": [hook_url(hook)]})
    first = _poll(config)  # the backlog, with alerts: apprise and the rest have work
    assert first["code"] == 0 and hook.received
    assert _poll(config) == {"code": 0, "heavy": []}


def test_a_poll_on_sqlite_that_stores_and_sends_imports_no_other_dialect_nor_query_parser(
    site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """PostgreSQL's dialect imports its drivers' modules (asyncpg, pg8000, psycopg), and
    the query language lark: neither has work in a poll on SQLite whose watchlists have
    terms only, though it stores articles, claims stories and counts terms."""
    db_url = f"sqlite:///{tmp_path / 'n.db'}"
    config = write_config(tmp_path / "n.toml", db_url, site, {"desk": [hook_url(hook)]})
    # the schema first: alembic's operations import every dialect it knows
    assert cli_imports(["--config", str(config), "db", "upgrade"], ())[0]["code"] == 0
    argv = ["--config", str(config), "poll", "--once", "--format", "json"]
    found, _ = cli_imports(
        argv, ("sqlalchemy.dialects.postgresql", "lark", "monitor.store.entries")
    )
    assert found == {"code": 0, "heavy": ["monitor.store.entries"]} and hook.received
