"""Which feeds there are: the config's ``[[feed]]`` tables and the feeds added from the
command line (``newsmon feeds add`` and ``feeds import``), which live in the database.

The config stays the source of truth for the feeds it declares: the command line never
edits the file, and refuses to remove or shadow a feed the config declares. A feed the
config later declares under the same name becomes the config's. Names are made from a
feed's title (or its host) when none is given: letters, digits, ``-``, ``_`` and ``.``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitor.config.settings import Settings
from monitor.config.urlcheck import url_problem
from monitor.errors import FeedsError, NewsmonError
from monitor.fetch.client import FEED_ACCEPT, fetch, make_client
from monitor.match.translit import to_latin
from monitor.sources.feeds import parse_feed
from monitor.store.catalog import CatalogFeed, NewFeed
from monitor.stories.urlkeys import url_key

__all__ = [
    "Candidate",
    "Plan",
    "check_feed",
    "check_url",
    "feed_set",
    "make_name",
    "plan",
    "removable",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Candidate:
    url: str
    label: str | None = None  # a title to name the feed after
    name: str | None = None  # a name asked for
    where: str = ""  # "line 12" in an OPML file


@dataclass
class Plan:
    add: list[NewFeed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why, one line each


def check_url(url: str) -> str:
    """``url`` stripped, if the fetcher can fetch it (monitor.fetch.guard.url_problem)."""
    url = url.strip()
    problem = url_problem(url)
    if problem is not None:
        raise FeedsError(problem, "give the feed's full address, e.g. https://example.org/rss.xml")
    return url


def check_feed(settings: Settings, url: str) -> tuple[str, int]:
    """Fetch and parse ``url`` as the daemon would: its title and entry count."""
    with make_client(settings.http) as client:
        try:
            got = fetch(client, url, max_bytes=settings.http.max_bytes, accept=FEED_ACCEPT)
            title, entries = parse_feed(
                got.body,
                url=got.url,
                content_type=got.content_type,
                max_entries=settings.defaults.max_entries,
            )
        except NewsmonError as exc:
            raise FeedsError(
                f"{url} does not work as a feed: {exc}",
                "check the URL in a browser; leave out --check to add it anyway",
            ) from None
    return title, len(entries)


def _slug(text: str) -> str:
    text = " ".join(text.split())
    if _NAME.match(text):
        return text
    words = [to_latin(w)[0] if re.search("[\u0400-\u04ff]", w) else w for w in text.split()]
    plain = unicodedata.normalize("NFKD", " ".join(words)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:56].strip("-")


def make_name(label: str | None, url: str, taken: set[str]) -> str:
    """A free name from the label, else the URL's host; ``-2``, ``-3`` ... when taken."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    base = (_slug(label) if label else "") or _slug(host) or "feed"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[: 60 - len(str(n))]}-{n}"
    return name


def feed_set(settings: Settings, rows: Sequence[CatalogFeed]) -> list[tuple[str, str, str | None]]:
    """The feeds in force, as ``(name, url, title)``: the config's enabled ones and the
    enabled command-line ones."""
    titles = {r.name: r.title for r in rows}
    found = {f.name: (f.name, f.url, titles.get(f.name)) for f in settings.feed if f.enabled}
    for r in rows:
        if r.origin == "cli" and r.is_enabled and r.name not in found:
            found[r.name] = (r.name, r.url, r.title)
    return sorted(found.values())


def plan(
    candidates: Sequence[Candidate],
    settings: Settings,
    rows: Sequence[CatalogFeed],
    interval: float,
) -> Plan:
    """What adding ``candidates`` does: the feeds to add, and the ones skipped and why.

    A URL that is already a feed (compared normalised) is skipped, and so is a URL met
    earlier in the same list. A removed feed with the same URL comes back under its name."""
    config = {f.name for f in settings.feed}
    known = {url_key(f.url): f.name for f in settings.feed if f.enabled}
    known |= {url_key(r.url): r.name for r in rows if r.is_enabled and r.name not in config}
    free = {r.name for r in rows if not r.is_enabled and r.origin == "cli" and r.name not in config}
    removed = {url_key(r.url): r.name for r in rows if r.name in free}
    taken = {n.lower() for n in config | {r.name for r in rows}}
    result = Plan()
    seen: dict[str, str] = {}
    for c in candidates:
        key, at = url_key(c.url), f"{c.where}: " if c.where else ""
        if key in known:
            result.skipped.append(f"{at}{c.url} is already the feed {known[key]!r}")
        elif key in seen:
            result.skipped.append(f"{at}{c.url} is a duplicate of {seen[key]}")
        else:
            name = _name(c, taken, free, removed.get(key))
            taken.add(name.lower())
            result.add.append(NewFeed(name, c.url, interval))
            seen[key] = c.where or name
    return result


def _name(c: Candidate, taken: set[str], free: set[str], removed: str | None) -> str:
    if c.name is None:
        return removed or make_name(c.label, c.url, taken)
    if not _NAME.match(c.name):
        raise FeedsError(
            f"{c.name!r} is not a usable feed name",
            "use letters, digits, - _ and . (at most 64), starting with a letter or digit",
        )
    if c.name.lower() in taken and c.name not in free:
        raise FeedsError(
            f"a feed named {c.name!r} already exists",
            "choose another --name; `newsmon feeds list` shows the names in use",
        )
    return c.name


def removable(name: str, settings: Settings, rows: Sequence[CatalogFeed], config: str) -> None:
    """Raise a FeedsError saying why ``name`` cannot be removed from the command line."""
    if any(f.name == name for f in settings.feed):
        raise FeedsError(
            f"the feed {name!r} is declared in the config {config}",
            "delete its [[feed]] table there (or set enabled = false), then reload the daemon "
            "(`systemctl reload newsmon`, or SIGHUP)",
        )
    if not any(r.name == name and r.origin == "cli" and r.is_enabled for r in rows):
        added = sorted(r.name for r in rows if r.origin == "cli" and r.is_enabled)
        raise FeedsError(
            f"no feed named {name!r} was added from the command line",
            f"feeds added with `newsmon feeds add` or `import`: {', '.join(added) or 'none'}",
        )
