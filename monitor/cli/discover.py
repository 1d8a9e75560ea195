"""``newsmon feeds discover``: what a site offers to watch (monitor.sources.discover)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.cli.feeds import feeds
from monitor.cli.output import emit, format_option
from monitor.cli.params import TEXT
from monitor.config.settings import Settings
from monitor.fetch.client import fetch, make_client
from monitor.model import Fetched
from monitor.sources import catalog
from monitor.sources.discover import Discovery, discover

if TYPE_CHECKING:
    from monitor.cli import Obj

__all__ = ["find", "register"]

COLUMNS = ["kind", "url", "how", "title"]


def find(settings: Settings, url: str, *, is_probing: bool = True) -> Discovery:
    """Discovery through the fetcher the daemon uses: its address guard, limits, deadline."""
    with make_client(settings.http) as client:

        def get(target: str, accept: str) -> Fetched:
            return fetch(client, target, max_bytes=settings.http.max_bytes, accept=accept)

        return discover(catalog.check_url(url), get, is_probing=is_probing)


@feeds.command("discover")
@click.argument("url", type=TEXT)
@click.option(
    "--no-probe", is_flag=True, help="Do not try the common feed paths (/feed, /rss.xml, ...)."
)
@format_option("table", "json", default="table")
@click.pass_obj
def feeds_discover(obj: Obj, url: str, no_probe: bool, fmt: str) -> None:
    """List what a site offers to watch: the feeds its page names (<link rel="alternate">),
    the sitemaps of its robots.txt, common feed paths that answer, and Telegram channels
    the page links to. Nothing is added; `feeds add` adds one.

    \b
    Example:
        newsmon feeds discover https://meduza.io/
        newsmon feeds discover https://www.reuters.com/ --format json --no-probe
    """
    found = find(obj.settings, url, is_probing=not no_probe)
    rows = [{"kind": f.kind, "url": f.url, "how": f.how, "title": f.title} for f in found.found]
    emit(rows, fmt, COLUMNS, f"found on {found.url}", drop=["how", "title"], main="url")


def register(_group: click.Group) -> None:
    feeds.add_command(feeds_discover)
