"""Entries with no title, no link and no text are dropped, and counted: in the poll's log
line (``dropped=N``) and in the ``newsmon_dropped_entries_total`` counter. A served feed,
polled twice through ``poll --once``."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from helpers.config import ALLOW_LOCAL
from monitor import metrics
from monitor.cli import cli
from monitor.demo.server import Reply, Site

EMPTY = "<item><description>  </description></item>"  # nothing to read, match or show
OTHER_EMPTY = "<item><category>misc</category></item>"
KEPT = "<item><description>Only a summary: NATO met today.</description></item>"


def feed(*items: str) -> Reply:
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Sparse</title>'
    body += "".join(items) + "</channel></rss>"
    return Reply(200, body.encode(), {"Content-Type": "application/rss+xml"})


def item(n: int) -> str:
    return f"<item><title>Story {n}</title><guid>story-{n}</guid></item>"


def dropped_total() -> float:
    value = metrics.REGISTRY.get_sample_value("newsmon_dropped_entries_total", {"feed": "sparse"})
    return value or 0.0


def poll(config: Path) -> dict[str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stderr.splitlines() if " msg=polled " in line]
    return dict(re.findall(r"(\w+)=(\S+)", line))  # plain words and numbers here


def test_entries_without_title_link_or_text_are_counted(db_url: str, tmp_path: Path) -> None:
    with Site() as site:
        site.routes["/sparse.xml"] = feed(item(1), EMPTY, KEPT, EMPTY, item(2))
        config = tmp_path / "n.toml"
        config.write_text(
            f'[database]\nurl = "{db_url}"\n[scale]\nworkers = 0\n'
            f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
            f'[[feed]]\nname = "sparse"\nurl = "{site.base}/sparse.xml"\n',
            encoding="utf-8",
        )
        before = dropped_total()
        first = poll(config)
        assert (first["entries"], first["backlog"], first["dropped"]) == ("5", "3", "2")
        assert dropped_total() == before + 2

        site.routes["/sparse.xml"] = feed(
            item(3), OTHER_EMPTY, item(1), EMPTY, KEPT, EMPTY, item(2)
        )
        second = poll(config)  # the items read before are left out: only new ones count
        assert (second["new"], second["dropped"]) == ("1", "1")
        assert dropped_total() == before + 3
