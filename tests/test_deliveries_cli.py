"""``newsmon deliveries list`` and ``retry`` on a real outbox, and ``notify test``."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from helpers.config import hook_url, write_config
from helpers.delivery import NOVOSTI_ALERTS, raised
from monitor.cli import cli
from monitor.deliver.drain import drain
from monitor.demo.server import Receiver, Site


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_list_filters_and_retry_brings_dead_deliveries_back(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    with Receiver() as broken:
        broken.status = 410
        config = write_config(
            tmp_path / "n.toml",
            db_url,
            site,
            {"chat": [hook_url(hook)], "desk": [hook_url(broken, "T0ken-x")]},
        )
        config.write_text(config.read_text().replace("max_attempts = 3", "max_attempts = 1"))
        with raised(config) as ctx:
            drain(ctx.db, ctx.settings, ctx.clock())
            code, out, _ = invoke(config, "deliveries", "list", "--format", "json")
            rows = json.loads(out)
            assert code == 0 and len(rows) == 2 * NOVOSTI_ALERTS
            by_channel = {ch: [r for r in rows if r["channel"] == ch] for ch in ("chat", "desk")}
            assert {r["status"] for r in by_channel["chat"]} == {"sent"}
            assert {r["status"] for r in by_channel["desk"]} == {"dead"}
            dead = by_channel["desk"][0]
            assert dead["attempts"] == 1 and "410" in dead["last_error"]
            assert dead["targets"] == [
                {
                    "target": f"json://bot:****@{broken.base[7:]}/****",
                    "ok": False,
                    "error": dead["targets"][0]["error"],
                }
            ]
            assert "T0ken-x" not in out

            _, out, _ = invoke(config, "deliveries", "list", "--status", "dead", "--format", "csv")
            table = list(csv.DictReader(io.StringIO(out)))
            assert {r["channel"] for r in table} == {"desk"} and len(table) == NOVOSTI_ALERTS
            _, out, _ = invoke(config, "deliveries", "list", "--channel", "chat")
            assert out.count("sent") >= NOVOSTI_ALERTS and "dead" not in out

            sent_id = by_channel["chat"][0]["id"]
            code, out, err = invoke(
                config, "deliveries", "retry", str(dead["id"]), str(sent_id), "99999"
            )
            assert code == 1 and f"queued 1 delivery: {dead['id']}" in out
            assert f"{sent_id} (sent)" in err and "99999 (no such delivery)" in err
            code, out, _ = invoke(config, "deliveries", "retry", "--dead")
            assert code == 0 and f"queued {NOVOSTI_ALERTS - 1} deliveries" in out
            code, _, err = invoke(config, "deliveries", "retry")
            assert code == 2 and "--dead" in err

            broken.status = 200
            result = drain(ctx.db, ctx.settings, ctx.clock() + timedelta(seconds=1))
            assert result.sent == NOVOSTI_ALERTS
            _, out, _ = invoke(config, "deliveries", "list", "--format", "json")
            assert {r["status"] for r in json.loads(out)} == {"sent"}
    assert len(hook.received) == NOVOSTI_ALERTS  # the good channel was never sent twice


def test_notify_test_reads_urls_from_env_and_credentials(
    site: Site, hook: Receiver, tmp_path: Path
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "ops.urls").write_text(f"# ops room\n{hook_url(hook, 'Cr3dential')}\n")
    config = write_config(tmp_path / "n.toml", f"sqlite:///{tmp_path}/x.db", site, {})
    config.write_text(
        config.read_text()
        + '\n[channel.ops]\nurls_credential = "ops.urls"\n'
        + '\n[channel.wire]\nurls_env = "WIRE_URLS"\n'
    )
    env = {
        "CREDENTIALS_DIRECTORY": str(creds),
        "WIRE_URLS": f"{hook_url(hook)} json://127.0.0.1:9/x",
    }
    runner = CliRunner(env=env)
    result = runner.invoke(cli, ["--config", str(config), "notify", "test", "ops"])
    assert result.exit_code == 0 and len(hook.received) == 1
    assert "Cr3dential" not in result.output
    result = runner.invoke(
        cli, ["--config", str(config), "notify", "test", "wire", "--format", "json"]
    )
    results = json.loads(result.stdout)["results"]
    assert result.exit_code == 1 and [r["ok"] for r in results] == [True, False]
    result = CliRunner(env={"WIRE_URLS": ""}).invoke(
        cli, ["--config", str(config), "notify", "test", "wire"]
    )
    assert result.exit_code == 1 and "WIRE_URLS is not set" in result.stderr
