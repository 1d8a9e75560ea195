"""What `feeds add` offers for a site's page, through discovery (monitor.sources.discover):
the fetch, whether an address names a feed by itself, and the user's pick."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import click

from monitor.config.settings import Settings
from monitor.errors import FeedsError
from monitor.fetch.client import fetch, make_client
from monitor.model import Fetched
from monitor.sources import catalog, telegram
from monitor.sources.discover import Discovery, Found, discover

__all__ = ["choose", "find", "looks_like_a_feed"]

# addresses that name a feed or a sitemap, not a site's page: `feeds add` takes them as given
_FEEDISH = re.compile(r"(?i)(\.(xml|rss|atom|rdf|json)$|/(rss|feeds?|atom)(/|$|\.)|[?&]feed=)")


def find(settings: Settings, url: str, *, is_probing: bool = True) -> Discovery:
    """Discovery through the fetcher the daemon uses: its address guard, limits, deadline."""
    with make_client(settings.http) as client:

        def get(target: str, accept: str) -> Fetched:
            return fetch(client, target, max_bytes=settings.http.max_bytes, accept=accept)

        return discover(catalog.check_url(url), get, is_probing=is_probing)


def looks_like_a_feed(url: str) -> bool:
    """``url`` names a feed, a sitemap or a Telegram channel by its address alone."""
    path = urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")
    return bool(_FEEDISH.search(path)) or telegram.channel_of(url) is not None


def choose(
    settings: Settings, url: str, *, is_yes: bool, is_interactive: bool
) -> tuple[str, str | None]:
    """What `feeds add URL` adds when URL is a site's page: ``(url, kind)`` of what
    discovery found, the user's pick (or the first with ``is_yes``); the page itself as
    a ``page`` source when nothing was found. A page that cannot be fetched is added as
    given. Feeds and sitemaps keep no kind: it is detected from each response."""
    try:
        found = find(settings, url)
    except FeedsError as exc:
        click.echo(f"note: {exc.message}; adding {url} as given", err=True)
        return url, None
    if any(f.how == "the URL itself" for f in found.found):
        return _picked(found.found[0])
    if not found.found:
        click.echo(f"note: no feed, sitemap or channel found on {url}: watching the page", err=True)
        return url, "page"
    if is_yes:
        return _picked(found.found[0])
    if not is_interactive:
        offers = "\n".join(f"  {f.kind:9} {f.url}" for f in found.found)
        raise FeedsError(
            f"{url} is a web page that offers:\n{offers}",
            "add one of these URLs, or give --yes to add the first, or --kind page to watch "
            "the page itself",
        )
    for number, item in enumerate(found.found, 1):
        click.echo(f"{number:3}. {item.kind:9} {item.url}  ({item.how})", err=True)
    click.echo(f"{0:3}. page      {url}  (the page itself)", err=True)
    picked = click.prompt(
        "Add which one", type=click.IntRange(0, len(found.found)), default=1, err=True
    )
    return (url, "page") if picked == 0 else _picked(found.found[picked - 1])


def _picked(item: Found) -> tuple[str, str | None]:
    return item.url, "telegram" if item.kind == "telegram" else None
