"""Secrets in channel URLs, from a file, an environment variable and a systemd credential,
never show: everything captured (logs at debug level, every command's output, every row
of every table) is searched for them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import MetaData, select

from conftest import write_config
from monitor.cli import cli
from monitor.demo.server import Receiver, Site
from monitor.store.db import connect

FILE_SECRET = "FileSecret-7f3a"
ENV_SECRET = "EnvSecret-91bc"
CRED_SECRET = "CredToken-c0ffee42"
SECRETS = [FILE_SECRET, ENV_SECRET, CRED_SECRET]


def newsmon(config: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """One command in this process; its logs go to the captured stderr."""
    runner = CliRunner(env=env)
    result = runner.invoke(cli, ["--log-level", "debug", "--config", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout + result.stderr


def dump(db_url: str) -> str:
    db = connect(db_url)
    meta = MetaData()
    meta.reflect(db.engine)
    # SQLite's contentless full-text table cannot be read back; its shadow tables
    # (search_index_data, ...) hold what it stores, and are read like any other table.
    is_sqlite = db.engine.dialect.name == "sqlite"
    tables = [t for t in meta.sorted_tables if not (is_sqlite and t.name == "search_index")]
    with db.engine.connect() as conn:
        rows = [repr(row) for table in tables for row in conn.execute(select(table))]
    db.close()
    return "\n".join(rows)


def test_secrets_never_appear_in_logs_output_or_the_database(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """In-process commands see the same code paths as the daemon (test_daemon runs it)."""
    with Receiver() as refusing:
        refusing.status = 500
        urls_file = tmp_path / "desk.urls"
        urls_file.write_text(f"# the desk\njson://bot:{FILE_SECRET}@{hook.base[7:]}/hook\n")
        credentials = tmp_path / "credentials"
        credentials.mkdir()
        # a webhook whose token is part of the path, as with many chat services
        (credentials / "ops.urls").write_text(
            f"matrix://newsmon:{CRED_SECRET}@{refusing.base[7:]}/?mode=matrix\n"
        )
        config = write_config(tmp_path / "n.toml", db_url, site, {})
        config.write_text(
            config.read_text()
            + f'\n[channel.desk]\nurls_file = "{urls_file}"\n'
            + '\n[channel.wire]\nurls_env = "NEWSMON_WIRE_URLS"\n'
            + '\n[channel.ops]\nurls_credential = "ops.urls"\n'
        )
        text = config.read_text().replace("channels = []", 'channels = ["desk", "wire", "ops"]')
        config.write_text(text)
        env = {
            "NEWSMON_WIRE_URLS": f"json://bot:{ENV_SECRET}@127.0.0.1:9/nothing-listens",
            "CREDENTIALS_DIRECTORY": str(credentials),
        }
        captured = []
        for args in (
            ["config", "check"],
            ["poll", "--once"],
            ["deliveries", "list"],
            ["deliveries", "list", "--format", "json"],
            ["deliveries", "list", "--format", "csv"],
            ["alerts", "show", "1"],
            ["alerts", "show", "1", "--format", "json"],
            ["notify", "test", "desk"],
            ["notify", "test", "wire"],
            ["notify", "test", "ops", "--format", "json"],
            ["deliveries", "retry", "--dead"],
        ):
            code, out = newsmon(config, env, *args)
            captured.append(f"$ newsmon {' '.join(args)} -> {code}\n{out}")
        everything = "\n".join(captured) + dump(db_url)
        wrong = {"CREDENTIALS_DIRECTORY": str(tmp_path / "missing")}
        code, out = newsmon(config, wrong, "notify", "test", "ops")
        everything += out
    assert code == 1 and "ops.urls" in out and "Traceback" not in out
    # the test looked where the secrets would be, had they leaked
    assert "delivered alert=" in everything and "target(s) failed" in everything
    assert "bot:****@127.0.0.1:9" in everything and "json://bot:****@" in everything
    assert len(hook.received) > 0 and len(refusing.received) == 0
    for secret in SECRETS:
        assert secret not in everything, secret
