"""Recording entries: which are new or edited, and the one transaction that stores an outcome.

An entry is marked seen only together with its outcome (article, story, alerts, outbox
rows), so a crash between fetch and store means the entry is simply processed again.
Uniqueness is enforced by the database: (feed, entry key), article URL key, one claim
per (story, watchlist), one delivery per (alert, channel); an edit is applied only by
the instance whose compare-and-set of the article's revision succeeds. Racing
instances cannot double-alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from monitor.model import Article, Entry, Match
from monitor.store import alerting, events, search, stories
from monitor.store.db import Database
from monitor.store.tables import Article as ArticleRow
from monitor.store.tables import Entry as EntryRow

__all__ = [
    "IndexWords",
    "KnownArticle",
    "Outcome",
    "absorb_backlog",
    "find_article",
    "sort_entries",
    "record_entry",
]
_CHUNK = 500
_ARTICLES = cast(Table, ArticleRow.__table__)
_ENTRIES = cast(Table, EntryRow.__table__)
# built once: these run for every new article
_ENTRY_EXISTS = select(EntryRow.id).where(
    EntryRow.feed_id == bindparam("feed_id"), EntryRow.key == bindparam("key")
)
_ARTICLE_BY_KEY = select(ArticleRow.id, ArticleRow.story_id).where(
    ArticleRow.url_key == bindparam("url_key")
)
_INSERT_ARTICLE = insert(_ARTICLES).returning(_ARTICLES.c.id)
_BY_URL = _ARTICLES.c.url_key == bindparam("url_key")
_FIND_ARTICLE = (
    select(_ARTICLES)
    .where(or_(_BY_URL, _ARTICLES.c.canonical_key == bindparam("url_key")))
    .order_by(_BY_URL.desc(), _ARTICLES.c.id)
    .limit(1)
)
_NEWEST_ARTICLE = select(func.max(ArticleRow.created_at))
_INSERT_ENTRY = insert(_ENTRIES)


def sort_entries(
    db: Database, feed_id: int, entries: Sequence[Entry]
) -> tuple[list[Entry], list[Entry]]:
    """(new, changed), read in one transaction: the entries this feed has not recorded
    yet (first occurrence only, in feed order), and those recorded before with an
    article whose title or summary has changed since."""
    by_key = {e.key: e for e in entries}
    keys = list(by_key)
    known: set[str] = set()
    changed: list[Entry] = []
    with db.session() as s:
        for i in range(0, len(keys), _CHUNK):
            query = select(EntryRow.key, EntryRow.article_id, EntryRow.digest).where(
                EntryRow.feed_id == feed_id, EntryRow.key.in_(keys[i : i + _CHUNK])
            )
            for key, article_id, digest in s.execute(query):
                known.add(key)
                is_read = article_id is not None and digest is not None
                if is_read and digest != entry_digest(by_key[key]):
                    changed.append(by_key[key])
    fresh: dict[str, Entry] = {}
    for entry in entries:
        if entry.key not in known and entry.key not in fresh:
            fresh[entry.key] = entry
    return list(fresh.values()), changed


def absorb_backlog(db: Database, feed_id: int, entries: Iterable[Entry], now: datetime) -> int:
    """Record a new feed's existing entries as seen, without articles or alerts."""
    rows = [_entry_values(feed_id, e, None, now, is_backlog=True) for e in entries]
    if rows:
        with db.session() as s:
            s.execute(insert(_ENTRIES), rows)
    return len(rows)


@dataclass(frozen=True)
class KnownArticle:
    """A stored article, as an edit of it needs it."""

    id: int
    url_key: str
    story_id: int | None
    revision: int
    title: str
    text: str
    text_source: str
    is_pruned: bool = False  # retention removed its text: nothing to compare an edit with
    sitename: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class IndexWords:
    """An article's words for the full-text index (monitor.store.search), as the entry
    stage computed them: ``now``, and after an edit ``was``, those it was indexed under."""

    now: str
    was: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What processing one entry found, stored by ``record_entry`` in one transaction."""

    entry: Entry
    url_key: str
    article: Article | None  # None: the URL was known and not read again
    matches: Sequence[Match] = ()
    routes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    identity: stories.Identity | None = None  # None: no grouping by content
    known: KnownArticle | None = None  # the stored article this one re-reads
    diff: str | None = None  # what changed in the headline or lead of ``known``
    is_correcting: bool = False  # send a correction alert for ``diff``
    is_edited_entry: bool = False  # the entry was recorded before; its title/summary changed
    words: IndexWords | None = None  # needed with an article to store
    event: events.EventQuery | None = None  # None: stories are not grouped into events
    copies_only: frozenset[str] = frozenset()  # watchlists alerted per story, not per event
    # given what a claim announced, the event's members and the claim's time: the growth
    # to announce now (sources, summary), or None
    growth: alerting.Growth | None = None


def entry_digest(entry: Entry) -> str:
    return hashlib.sha256(f"{entry.title}\n{entry.summary}".encode()).hexdigest()


def find_article(db: Database, url_key: str) -> KnownArticle | None:
    """The stored article with this URL key, or whose page named it as canonical."""
    with db.connection() as conn:
        row = conn.execute(_FIND_ARTICLE, {"url_key": url_key}).first()
    if row is None:
        return None
    return KnownArticle(
        row.id,
        row.url_key,
        row.story_id,
        row.revision,
        row.title,
        row.text,
        row.text_source,
        is_pruned=row.pruned_at is not None,
        sitename=row.sitename,
        url=row.url,
    )


def record_entry(
    db: Database,
    /,
    *,
    feed_id: int,
    outcome: Outcome,
    now: datetime,
    raised: list[str] | None = None,
) -> list[int]:
    """Store the entry, its article and story and, for newly matched watchlists, an alert
    with its outbox rows (and a correction alert when asked). Returns the new alert ids:
    none when nothing matched, or the story had already alerted those watchlists (through
    another feed, another copy or another instance). ``raised`` gets the watchlists of
    each new alert, once per alert (for the metrics).

    A new article is stored at ``now`` or, when an article already stored has a later
    time (a worker that read its clock earlier but took the lock later, another
    instance's clock), at that time: article ids and stored times rise together, which
    ``alerts search --since/--until`` relies on (monitor.store.search.id_range)."""
    if outcome.article is not None and outcome.words is None:
        raise ValueError("an article to store needs its words for the search index")
    with db.session() as s:
        stories.lock_stories(s)  # first, so racing instances queue here and never deadlock
        if not _claim_entry(s, feed_id, outcome, now):
            return []  # another instance recorded this entry (or this edit) first
        known, article = outcome.known, outcome.article
        if article is None:
            _link_entry(s, feed_id, outcome, known.id if known else None, now)
            return []
        is_joining, event_id = False, None
        if known is None:
            newest = s.connection().execute(_NEWEST_ARTICLE).scalar()
            now = now if newest is None or newest <= now else newest
            article_id, story_id, is_joining, event_id = _new_article(s, outcome, article, now)
        else:
            edited = _apply_edit(s, outcome, known, article, now)
            if edited is None:
                return []  # another instance applied this edit first
            article_id, story_id = known.id, edited
        _link_entry(s, feed_id, outcome, article_id, now)
        is_correcting = outcome.is_correcting and outcome.diff and known is not None
        alerted = alerting.alerted_by(s, article_id, story_id) if is_correcting else []
        event_id = event_id or events.event_of(s, story_id) or story_id
        where = alerting.Where(
            feed_id, article_id, story_id, outcome.routes, now, event_id, outcome.copies_only
        )
        alerts = [alerting.alert(s, where, outcome.matches, raised)]
        if alerted and outcome.diff:
            fixed = alerting.correction(s, where, outcome.matches, alerted, outcome.diff, raised)
            alerts.append(fixed)
        if is_joining and outcome.growth is not None:
            alerts.extend(alerting.growth(s, where, outcome.growth, raised))
        return [a for a in alerts if a is not None]


def _claim_entry(s: Session, feed_id: int, outcome: Outcome, now: datetime) -> bool:
    """Whether this transaction is the one to record the entry (or its edit).

    Under the story lock no other instance is recording at the same time; the unique
    (feed, key) constraint still stands behind this check.
    """
    entry = outcome.entry
    if not outcome.is_edited_entry:
        found = s.connection().execute(_ENTRY_EXISTS, {"feed_id": feed_id, "key": entry.key})
        return found.scalar() is None
    digest = entry_digest(entry)
    changed = s.execute(
        update(EntryRow)
        .where(EntryRow.feed_id == feed_id, EntryRow.key == entry.key, EntryRow.digest != digest)
        .values(digest=digest, title=entry.title[:2000], seen_at=now)
    )
    return bool(changed.rowcount == 1)  # type: ignore[attr-defined]


def _link_entry(
    s: Session, feed_id: int, outcome: Outcome, article_id: int | None, now: datetime
) -> None:
    """Insert the entry with its article (or point an edited entry at it)."""
    entry = outcome.entry
    if outcome.is_edited_entry:
        s.execute(
            update(EntryRow)
            .where(EntryRow.feed_id == feed_id, EntryRow.key == entry.key)
            .values(article_id=article_id)
        )
        return
    values = _entry_values(feed_id, entry, article_id, now, is_backlog=False)
    s.connection().execute(_INSERT_ENTRY, values)


def _new_article(
    s: Session, outcome: Outcome, article: Article, now: datetime
) -> tuple[int, int, bool, int | None]:
    """Place the article in a story (an existing one, or a new one) and the story in an
    event, then insert it. Returns the article, its story, whether it joined an event
    reported before, and the story's event (None: not looked up)."""
    found = s.connection().execute(_ARTICLE_BY_KEY, {"url_key": outcome.url_key}).first()
    if found is not None and found.story_id is not None:
        return found.id, found.story_id, False, None  # stored meanwhile, through another feed
    identity = outcome.identity
    story_id = stories.find_story(s, outcome.url_key, identity) if identity else None
    placed = events.place(s, outcome.event) if outcome.event else None
    at = outcome.event.at if outcome.event else None
    if story_id is None:
        story_id = stories.new_story(s, article.title, now)
        event_id = placed.event_id if placed and placed.event_id else story_id
        events.join_event(s, story_id, event_id, at)
        is_joining = event_id != story_id
    else:
        stories.touch(s, story_id, now)
        event_id = events.event_of(s, story_id) or story_id
        events.join_event(s, story_id, event_id, at)
        is_joining = True
    values = {
        "url_key": outcome.url_key,
        "canonical_key": identity.canonical_key if identity else None,
        "url": article.url,
        "title": article.title,
        "text": article.text,
        "text_source": article.text_source.value,
        "language": article.language,
        "sitename": article.sitename,
        "published_at": article.published,
        "created_at": now,
        "fetch_error": article.error,
        "revision": 0,
        "story_id": story_id,
    }
    if found is not None:  # an article row without a story: give it one
        s.execute(update(ArticleRow).where(ArticleRow.id == found.id).values(story_id=story_id))
        article_id = int(found.id)
    else:
        article_id = s.connection().execute(_INSERT_ARTICLE, values).scalar_one()
        search.index_article(s.connection(), article_id, _words(outcome).now)
    if identity is not None:
        stories.add_keys(s, article_id, identity.keys)
    if outcome.event is not None and placed is not None:
        events.add_profile(s, article_id, event_id, outcome.event, placed)
    return article_id, story_id, is_joining, event_id


def _apply_edit(
    s: Session, outcome: Outcome, known: KnownArticle, article: Article, now: datetime
) -> int | None:
    """Store the new title and text when they changed; None when another instance won."""
    story_id = known.story_id or stories.new_story(s, article.title, now)
    is_changed = (known.title, known.text) != (article.title, article.text)
    if not is_changed:
        if known.story_id is None:
            s.execute(update(ArticleRow).where(ArticleRow.id == known.id).values(story_id=story_id))
        return story_id
    done = s.execute(
        update(ArticleRow)
        .where(ArticleRow.id == known.id, ArticleRow.revision == known.revision)
        .values(
            title=article.title,
            text=article.text,
            text_source=article.text_source.value,
            revision=known.revision + 1,
            updated_at=now,
            story_id=story_id,
        )
        .returning(ArticleRow.id)
    ).first()
    if done is None:
        return None
    words = _words(outcome)
    search.index_article(s.connection(), known.id, words.now, was=words.was)
    if outcome.identity is not None:
        stories.replace_keys(s, known.id, outcome.identity.keys)
    return story_id


def _words(outcome: Outcome) -> IndexWords:
    assert outcome.words is not None  # record_entry checked
    return outcome.words


def _entry_values(
    feed_id: int, entry: Entry, article_id: int | None, now: datetime, *, is_backlog: bool
) -> dict[str, object]:
    return {
        "feed_id": feed_id,
        "key": entry.key,
        "article_id": article_id,
        "title": entry.title[:2000],
        "link": entry.link,
        "published_at": entry.published,
        "seen_at": now,
        "is_backlog": is_backlog,
        "digest": entry_digest(entry),
    }
