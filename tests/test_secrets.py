"""Secrets in channel URLs, from a file, an environment variable and a systemd credential,
never show: everything captured (logs at debug level, every command's output, every row
of every table) is searched for them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import MetaData, select

from helpers.config import route_only, write_config
from helpers.servers import free_port
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


# tokens in the path or the query of a channel URL, which apprise's privacy mode shows
PATH_SECRETS = {
    "discord": "DiscordT0ken-4f2a9c",
    "webhook": "WebhookT0ken-7d1e0b",
    "slack": "SlackT0ken9x8c7v6b5n4m3q",
    "json": "JsonHookT0ken-5e6f",
    "form": "FormApiKey-0b1c2d",
    "ntfy": "NtfyTopicSecret83",
    "odd": "OddT0ken-a1b2c3",
}


def test_path_and_query_tokens_never_appear(db_url: str, site: Site, tmp_path: Path) -> None:
    """Chat webhooks, a JSON hook, a form with ?-apikey=, an ntfy topic: every target
    fails against a local server (500, a refused port, a timeout, an HTTPS proxy that
    refuses the tunnel), at debug level, and no token shows anywhere."""
    s = PATH_SECRETS
    with Receiver() as failing, Receiver() as slow, Receiver() as proxy:
        failing.status, proxy.status, slow.delay = 500, 502, 3.0
        refused = f"127.0.0.1:{free_port()}"
        channels = {
            "discord": f"discord://4815162342/{s['discord']}",
            "webhook": f"https://discord.com/api/webhooks/4815162342/{s['webhook']}",
            "slack": f"slack://T1JJ3T3L2/B1BRTD4JD/{s['slack']}",
            "json": f"json://{failing.base[7:]}/hooks/{s['json']}",
            "form": f"form://{refused}/in?-apikey={s['form']}&mode=x",
            "ntfy": f"ntfy://{slow.base[7:]}/{s['ntfy']}",
            # apprise does not understand it: its words must not be masked elsewhere
            "odd": f"https://{site.base[7:]}/feeds/{s['odd']}",
        }
        config = write_config(
            tmp_path / "n.toml",
            db_url,
            site,
            {},
            extra="".join(
                f'\n[channel.{name}]\nurls = ["{url}"]\ntimeout = "1s"\n'
                for name, url in channels.items()
            ),
        )
        route_only(config, "ryabkov", list(channels))
        env = {"HTTPS_PROXY": proxy.base, "NO_PROXY": None, "no_proxy": None}
        captured = []
        for args in (
            ["notify", "test", "odd"],
            ["poll", "--once"],
            ["deliveries", "list"],
            ["deliveries", "list", "--format", "json"],
            ["deliveries", "list", "--format", "csv"],
            *(["notify", "test", name, "--format", "json"] for name in channels),
        ):
            code, out = newsmon(config, env, *args)  # type: ignore[arg-type]
            captured.append(f"$ newsmon {' '.join(args)} -> {code}\n{out}")
        everything = "\n".join(captured) + dump(db_url)
    # every target was tried, and failed
    assert sorted(set(proxy.tunnels)) == ["discord.com:443", "hooks.slack.com:443"]
    assert len(slow.received) >= 3 and not failing.received
    for name in channels:
        assert f"$ newsmon notify test {name} --format json -> 1" in everything
    assert "error=500" in everything and "1 of 1 target(s) failed" in everything
    for shown in (
        "discord://4...2/****/",
        "slack://T...2/****/****/",
        f"json://{failing.base[7:]}/****/****",
        f"form://{refused}/****",
        f"ntfy://{slow.base[7:]}/****",
    ):
        assert shown in everything, shown
    # unrelated words stay readable after apprise refused a URL made of them
    assert f"url={site.base}/articles/ryabkov-ru.html" in everything
    for secret in PATH_SECRETS.values():
        assert secret not in everything, secret
