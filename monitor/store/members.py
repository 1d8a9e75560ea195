"""A story's articles, as dataclasses, read with Core statements (no ORM import)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from monitor.store.schema import articles

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Member", "members", "source_name"]


@dataclass(frozen=True)
class Member:
    article_id: int
    title: str
    url: str | None
    source: str
    seen_at: datetime
    published_at: datetime | None = None  # as the source dates it
    feeds: tuple[str, ...] = ()  # that carried it, first first (filled by alerts.get_alert)


def members(s: Connection | Session, story_ids: Iterable[int]) -> dict[int, list[Member]]:
    """Every article of each story, oldest first."""
    ids = list(set(story_ids))
    found: dict[int, list[Member]] = defaultdict(list)
    if not ids:
        return found
    a = articles.c
    query = (
        select(a.story_id, a.id, a.title, a.url, a.sitename, a.created_at, a.published_at)
        .where(a.story_id.in_(ids))
        .order_by(a.created_at, a.id)
    )
    for story_id, art_id, title, url, sitename, seen_at, published in s.execute(query):
        found[story_id].append(
            Member(art_id, title, url, source_name(sitename, url), seen_at, published)
        )
    return found


def source_name(sitename: str | None, url: str | None) -> str:
    """The site's own name, else the host of the URL."""
    if sitename:
        return sitename
    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.") or "unknown source"
