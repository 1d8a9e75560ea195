"""``newsmon demo``: the real pipeline on bundled feeds served from 127.0.0.1.

The run gives back what happened (``DemoRun``); the command line prints it
(monitor.cli.demo)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.config.settings import load
from monitor.demo.server import Receiver, Site
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.pipeline.feed import FeedResult
from monitor.store.alerts import AlertView, list_alerts
from monitor.store.eventlist import EventView, list_events

__all__ = ["DemoRun", "run_demo"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DemoRun:
    config_path: Path  # the demo's config, for exploring the result
    first: list[FeedResult]  # the first poll, feed by feed
    second: list[FeedResult]  # the second: nothing new, the feeds not modified
    alerts: list[AlertView]  # as `alerts list` gives them, newest first
    received: list[bytes]  # the bodies the webhook received, in order
    seconds: float  # how long the whole run took
    stories: list[EventView] = field(default_factory=list)  # reported by several sources

    def story_alerts(self, story: EventView) -> list[AlertView]:
        """The alerts made on ``story``, oldest first."""
        made = [a for a in self.alerts if a.story is not None and a.story.id == story.id]
        return sorted(made, key=lambda a: a.id)

    @property
    def is_ok(self) -> bool:
        """Alerts made, none made again, and the webhook reached."""
        again = sum(len(r.alerts) for r in self.second)
        return bool(self.alerts) and again == 0 and bool(self.received)


def write_config(workdir: Path, site: Site, hook: Receiver) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "newsmon.db"
    for stale in workdir.glob("newsmon.db*"):
        stale.unlink()
    text = (HERE / "newsmon.toml").read_text(encoding="utf-8")
    text = (
        text.replace("{database}", f"sqlite:///{database.resolve()}")
        .replace("{base}", site.base)
        .replace("{hook_host}", hook.base.split("://")[1])
    )
    path = workdir / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_demo(workdir: Path, on_serving: Callable[[str, str], None]) -> DemoRun:
    """Serve the sample feeds and a webhook receiver, poll twice on a fresh database in
    ``workdir``; ``on_serving`` is told the feeds' base URL and the webhook's URL once
    they are served."""
    started = time.monotonic()
    with Site(HERE / "site") as site, Receiver() as hook:
        config_path = write_config(workdir, site, hook)
        on_serving(site.base, f"{hook.base}/hook")
        ctx = open_context(load(config_path))
        try:
            first = poll_once(ctx)
            second = poll_once(ctx)
            found = list_alerts(ctx.db, limit=100)
            events = list_events(ctx.db, limit=None)
        finally:
            close_context(ctx)
    return DemoRun(
        config_path=config_path,
        first=first.feeds,
        second=second.feeds,
        alerts=found,
        received=[body for _path, _headers, body in hook.received],
        seconds=time.monotonic() - started,
        stories=sorted(
            (e for e in events if len({m.source for m in e.members}) > 1), key=lambda e: e.id
        ),
    )
