"""The migrations and the models never drift apart; the systemd unit verifies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from helpers.db import migrate_to
from helpers.paths import REPO
from monitor.store.db import SCHEMA_HEAD, connect, migrations_dir


def test_models_match_migrations(db_url: str) -> None:
    db = connect(db_url)
    db.migrate()
    db.migrate()  # idempotent
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)  # raises when autogenerate would find a difference
    db.close()


def test_the_known_head_is_the_newest_migration(db_url: str) -> None:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert ScriptDirectory.from_config(cfg).get_heads() == [SCHEMA_HEAD]
    db = connect(db_url)
    db.migrate()
    assert db.schema_revisions() == ([SCHEMA_HEAD], [SCHEMA_HEAD])
    migrate_to(db, "-1", is_down=True)  # one migration behind: no longer current
    assert db.schema_revisions()[0] != [SCHEMA_HEAD]
    db.migrate()  # the long way, through alembic
    assert db.schema_revisions() == ([SCHEMA_HEAD], [SCHEMA_HEAD])
    db.close()


def test_db_upgrade_says_what_it_did(db_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    config = tmp_path / "newsmon.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")

    def upgrade() -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    assert upgrade() == f"database schema created at revision {SCHEMA_HEAD}"
    assert upgrade() == f"database schema already at revision {SCHEMA_HEAD}, the newest"
    db = connect(db_url)
    migrate_to(db, "-1", is_down=True)
    (behind,), _ = db.schema_revisions()
    db.close()
    assert behind != SCHEMA_HEAD
    assert upgrade() == f"database schema upgraded from revision {behind} to {SCHEMA_HEAD}"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    newsmon = Path(sys.executable).with_name("newsmon")
    unit = (REPO / "systemd" / "newsmon.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "ExecReload=" in unit
    local = tmp_path / "newsmon.service"
    local.write_text(unit.replace("/opt/newsmon/bin/newsmon", str(newsmon)))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 0 and verify.stdout + verify.stderr == ""
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(local)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    exposure = float(
        security.stdout.split("Overall exposure level for newsmon.service:")[1].split()[0]
    )
    assert exposure <= 2.0


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_core_tables_match_the_orm_models(dialect: str) -> None:
    """monitor/store/schema.py, read without the ORM, declares what the models declare:
    the same DDL on each backend (columns, keys, constraints, indexes) and defaults."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.schema import CreateIndex, CreateTable

    from monitor.store import schema
    from monitor.store.tables import Base

    chosen = make_url(f"{dialect}://").get_dialect()()

    def ddl(table: object) -> list[str]:
        from sqlalchemy import Table

        assert isinstance(table, Table)
        made = [str(CreateTable(table).compile(dialect=chosen))]
        made += sorted(
            str(CreateIndex(i).compile(dialect=chosen))
            for i in table.indexes  # a set: in name order
        )
        defaults = [(c.name, getattr(c.default, "arg", None)) for c in table.columns]
        return [*made, repr(defaults), repr(dict(table.dialect_kwargs))]

    orm = Base.metadata.tables
    assert sorted(schema.metadata.tables) == sorted(orm)
    for name, table in schema.metadata.tables.items():
        assert ddl(table) == ddl(orm[name]), name
