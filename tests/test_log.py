"""Log lines: logfmt on stderr, stable keys, levels, and no secrets (monitor/log.py)."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers.config import ALLOW_LOCAL, hook_url
from monitor.cli import cli
from monitor.demo.server import Receiver, Reply, Site
from monitor.log import _KeyValueFormatter, fields, hidden, hide

PAIR = re.compile(r'([A-Za-z_]\w*)=("(?:[^"\\]|\\.)*"|[^\s"]+)')


def parse(line: str) -> dict[str, str]:
    """A logfmt line as a dict; fails unless the whole line is ``key=value`` pairs."""
    found: dict[str, str] = {}
    rest = line
    while rest:
        match = PAIR.match(rest)
        assert match, f"not logfmt at {rest[:40]!r} in {line!r}"
        key, value = match.groups()
        found[key] = json.loads(value) if value.startswith('"') else value
        rest = rest[match.end() :]
        assert rest == "" or rest.startswith(" "), line
        rest = rest[1:]
    return found


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("newsmon.test", logging.WARNING, __file__, 1, msg, args, info)


@pytest.mark.parametrize(
    ("msg", "args", "wanted"),
    [
        ("polled feed=%s status=ok", ("bbc",), {"msg": "polled", "feed": "bbc", "status": "ok"}),
        (
            "poll failed feed=%s error=%r",
            ("tass", 'fetch: "gone" (410)\nfor x'),
            {"msg": "poll failed", "feed": "tass", "error": 'fetch: "gone" (410)\nfor x'},
        ),
        ("poll skipped retry_in=%.0fs", (4.6,), {"msg": "poll skipped", "retry_in": "5s"}),
        ("alert alert=%d url=%s", (7, "http://x/a b"), {"alert": "7", "url": "http://x/a b"}),
        ("100% done a=b", (), {"msg": "100% done", "a": "b"}),
        ("Job %s missed by %s", ("a=b c", 2), {"msg": "Job a=b c missed by 2"}),
        ("weird a=%s b", (1,), {"msg": "weird a=1 b"}),
        ("empty url=%s", ("",), {"msg": "empty", "url": ""}),
        ("%(x)s", ({"x": 1},), {"msg": "1"}),
    ],
    ids=[
        "plain",
        "quoted",
        "format",
        "spaces",
        "percent",
        "library",
        "not-pairs",
        "empty",
        "mapping",
    ],
)
def test_every_line_is_logfmt(msg: str, args: tuple[object, ...], wanted: dict[str, str]) -> None:
    rec = record(msg, *args)
    line = _KeyValueFormatter(with_time=False).format(rec)
    assert "\n" not in line
    parsed = parse(line)
    assert parsed["level"] == "warning" and parsed["logger"] == "newsmon.test"
    assert {k: parsed[k] for k in wanted} == wanted
    text, pairs = fields(rec)
    assert text == parsed["msg"] and all(parsed[k] == v for k, v in pairs)


def test_tracebacks_stay_on_the_line_and_secrets_are_hidden() -> None:
    hide("hunter2-token")
    rec = record(
        "delivery failed channel=%s target=%s", "chat", "json://u:hunter2-token@h", exc=True
    )
    line = _KeyValueFormatter(with_time=True).format(rec)
    parsed = parse(line)
    assert "hunter2-token" not in line and parsed["target"] == "json://u:****@h"
    assert "boom\nsecond line" in parsed["traceback"] and parsed["time"]


def test_secrets_of_a_send_are_hidden_in_that_thread_during_it_only() -> None:
    """A channel URL's parts are masked in what is logged while a message goes to it
    (a library's request line), not in other threads' lines nor later ones."""
    formatter = _KeyValueFormatter(with_time=False)
    line = 'msg="POST /hooks/Tok3n-42 HTTP/1.1" host=hooks.example.org'
    rec = record("%s", line)
    seen: list[str] = []
    with hidden("Tok3n-42", "hooks"):
        masked = formatter.format(rec)
        other = threading.Thread(target=lambda: seen.append(formatter.format(rec)))
        other.start()
        other.join()
    assert "Tok3n-42" not in masked and "/****/****" in masked
    assert "Tok3n-42" in seen[0] and "Tok3n-42" in formatter.format(rec)


def test_a_real_poll_logs_stable_keys_and_no_secrets(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    """``poll --once`` on a sample feed, and a private feed with a token in its URL."""
    site.routes["/feeds/private.xml"] = Reply(200, b"<html>login first</html>")
    config = tmp_path / "n.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
        "[defaults]\nalert_backlog = true\nfetch_articles = false\n"
        f'[[feed]]\nname = "world"\nurl = "{site.base}/feeds/world.xml"\n'
        f'[[feed]]\nname = "private"\nurl = "{site.base}/feeds/private.xml?token=Zq8wK3pL"\n'
        f'[channel.chat]\nurls = ["{hook_url(hook, "pw-Vx93kd")}"]\n'
        '[watchlist.nato]\nterms = ["NATO"]\nchannels = ["chat"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "poll", "--once"])
    feeds = runner.invoke(cli, ["--config", str(config), "feeds", "list", "--format", "json"])
    assert result.exit_code == 3 and feeds.exit_code == 0  # 3: the private feed failed
    stored = {f["name"]: f["last_error"] for f in json.loads(feeds.output)}
    assert stored["private"] and "Zq8wK3pL" not in stored["private"]
    assert "Zq8wK3pL" not in result.stderr and "pw-Vx93kd" not in result.output + result.stderr
    lines = [parse(line) for line in result.stderr.splitlines()]
    assert lines and all({"level", "logger", "msg"} <= set(line) for line in lines)
    by_msg: dict[str, list[dict[str, str]]] = {}
    for line in lines:
        by_msg.setdefault(line["msg"], []).append(line)
    assert [p["feed"] for p in by_msg["polled"]] == ["world"]
    assert by_msg["alert"] and all(a["alert"].isdigit() and a["url"] for a in by_msg["alert"])
    assert len(by_msg["delivered"]) == len(by_msg["alert"]) == len(hook.received)
    assert all(d["channel"] == "chat" and d["alert"].isdigit() for d in by_msg["delivered"])
    (failed,) = by_msg["poll failed"]
    assert failed["level"] == "warning" and failed["feed"] == "private"
    assert f"{site.base}/feeds/private.xml is not an RSS or Atom feed" in failed["error"]
