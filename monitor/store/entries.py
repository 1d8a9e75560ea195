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

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.model import Article, DeliveryStatus, Entry, Match
from monitor.store import stories
from monitor.store.db import Database
from monitor.store.tables import Alert, Delivery, MatchRow, StoryClaim
from monitor.store.tables import Article as ArticleRow
from monitor.store.tables import Entry as EntryRow

__all__ = [
    "KnownArticle",
    "Outcome",
    "absorb_backlog",
    "changed_entries",
    "find_article",
    "new_entries",
    "record_entry",
]
_CHUNK = 500


def new_entries(db: Database, feed_id: int, entries: Sequence[Entry]) -> list[Entry]:
    """The entries this feed has not recorded yet, first occurrence only, in feed order."""
    keys = list(dict.fromkeys(e.key for e in entries))
    known: set[str] = set()
    with db.session() as s:
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            query = select(EntryRow.key).where(EntryRow.feed_id == feed_id, EntryRow.key.in_(chunk))
            known.update(s.scalars(query))
    fresh: dict[str, Entry] = {}
    for entry in entries:
        if entry.key not in known and entry.key not in fresh:
            fresh[entry.key] = entry
    return list(fresh.values())


def absorb_backlog(db: Database, feed_id: int, entries: Iterable[Entry], now: datetime) -> int:
    """Record a new feed's existing entries as seen, without articles or alerts."""
    count = 0
    with db.session() as s:
        for entry in entries:
            s.add(_entry_row(feed_id, entry, None, now, is_backlog=True))
            count += 1
    return count


@dataclass(frozen=True)
class KnownArticle:
    """A stored article, as an edit of it needs it."""

    id: int
    story_id: int | None
    revision: int
    title: str
    text: str
    text_source: str


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


def changed_entries(db: Database, feed_id: int, entries: Sequence[Entry]) -> list[Entry]:
    """Entries recorded before (with an article) whose title or summary has changed."""
    by_key = {e.key: e for e in entries}
    changed: list[Entry] = []
    keys = list(by_key)
    with db.session() as s:
        for i in range(0, len(keys), _CHUNK):
            query = select(EntryRow.key, EntryRow.digest).where(
                EntryRow.feed_id == feed_id,
                EntryRow.key.in_(keys[i : i + _CHUNK]),
                EntryRow.article_id.is_not(None),
                EntryRow.digest.is_not(None),
            )
            for key, digest in s.execute(query):
                if digest != entry_digest(by_key[key]):
                    changed.append(by_key[key])
    return changed


def entry_digest(entry: Entry) -> str:
    return hashlib.sha256(f"{entry.title}\n{entry.summary}".encode()).hexdigest()


def find_article(db: Database, url_key: str) -> KnownArticle | None:
    """The stored article with this URL key, or whose page named it as canonical."""
    query = (
        select(ArticleRow)
        .where(or_(ArticleRow.url_key == url_key, ArticleRow.canonical_key == url_key))
        .order_by((ArticleRow.url_key == url_key).desc(), ArticleRow.id)
        .limit(1)
    )
    with db.session() as s:
        row = s.scalar(query)
        if row is None:
            return None
        return KnownArticle(
            row.id, row.story_id, row.revision, row.title, row.text, row.text_source
        )


def record_entry(db: Database, /, *, feed_id: int, outcome: Outcome, now: datetime) -> list[int]:
    """Store the entry, its article and story and, for newly matched watchlists, an alert
    with its outbox rows (and a correction alert when asked). Returns the new alert ids:
    none when nothing matched, or the story had already alerted those watchlists (through
    another feed, another copy or another instance)."""
    with db.session() as s:
        stories.lock_stories(s)  # first, so racing instances queue here and never deadlock
        row = _record_entry_row(s, feed_id, outcome, now)
        if row is None:
            return []  # another instance recorded this entry (or this edit) first
        known = outcome.known
        if outcome.article is None:
            row.article_id = known.id if known else None
            return []
        if known is None:
            article_id, story_id = _new_article(s, outcome, outcome.article, now)
        else:
            edited = _apply_edit(s, outcome, known, outcome.article, now)
            if edited is None:
                return []  # another instance applied this edit first
            article_id, story_id = known.id, edited
        row.article_id = article_id
        is_correcting = outcome.is_correcting and outcome.diff and known is not None
        alerted = _alerted_by(s, article_id, story_id) if is_correcting else []
        alerts = [_alert(s, feed_id, article_id, story_id, outcome, now)]
        if alerted:
            alerts.append(_correction(s, feed_id, article_id, story_id, alerted, outcome, now))
        return [a for a in alerts if a is not None]


def _record_entry_row(s: Session, feed_id: int, outcome: Outcome, now: datetime) -> EntryRow | None:
    entry = outcome.entry
    if outcome.is_edited_entry:
        digest = entry_digest(entry)
        changed = s.execute(
            update(EntryRow)
            .where(
                EntryRow.feed_id == feed_id, EntryRow.key == entry.key, EntryRow.digest != digest
            )
            .values(digest=digest, title=entry.title[:2000], seen_at=now)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return s.scalars(
            select(EntryRow).where(EntryRow.feed_id == feed_id, EntryRow.key == entry.key)
        ).one()
    try:
        with s.begin_nested():
            row = _entry_row(feed_id, entry, None, now, is_backlog=False)
            s.add(row)
    except IntegrityError:
        return None
    return row


def _new_article(s: Session, outcome: Outcome, article: Article, now: datetime) -> tuple[int, int]:
    """Insert the article and place it in a story (an existing one, or a new one)."""
    canonical = outcome.identity.canonical_key if outcome.identity else None
    found = s.scalars(select(ArticleRow).where(ArticleRow.url_key == outcome.url_key)).first()
    if found is not None and found.story_id is not None:
        return found.id, found.story_id  # another instance stored this URL meanwhile
    row = found or ArticleRow(
        url_key=outcome.url_key,
        canonical_key=canonical,
        url=article.url,
        title=article.title,
        text=article.text,
        text_source=article.text_source.value,
        language=article.language,
        sitename=article.sitename,
        published_at=article.published,
        created_at=now,
        fetch_error=article.error,
        revision=0,
    )
    s.add(row)
    s.flush()
    story_id = None
    if outcome.identity is not None:
        story_id = stories.find_story(s, row.id, outcome.url_key, outcome.identity)
        stories.add_keys(s, row.id, outcome.identity.keys)
    row.story_id = story_id or stories.new_story(s, article.title, now)
    if story_id is not None:
        stories.touch(s, story_id, now)
    return row.id, row.story_id


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
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    if outcome.identity is not None:
        stories.replace_keys(s, known.id, outcome.identity.keys)
    return story_id


def _alert(
    s: Session, feed_id: int, article_id: int, story_id: int, outcome: Outcome, now: datetime
) -> int | None:
    """An alert for the matched watchlists this story has not alerted yet."""
    wanted = list(dict.fromkeys(m.watchlist for m in outcome.matches))
    if not wanted:
        return None
    alert = Alert(article_id=article_id, story_id=story_id, feed_id=feed_id, created_at=now)
    s.add(alert)
    s.flush()
    won = stories.claim(s, story_id, wanted, alert.id, now)
    if not won:
        s.delete(alert)
        s.flush()
        return None
    alert.watchlists = ",".join(won)
    _outbox(s, alert.id, [m for m in outcome.matches if m.watchlist in won], won, outcome, now)
    return alert.id


def _alerted_by(s: Session, article_id: int, story_id: int) -> list[str]:
    """The watchlists this article has alerted for its story."""
    return list(
        s.scalars(
            select(StoryClaim.watchlist)
            .join(Alert, Alert.id == StoryClaim.alert_id)
            .where(Alert.article_id == article_id, StoryClaim.story_id == story_id)
            .order_by(StoryClaim.watchlist)
        )
    )


def _correction(
    s: Session,
    feed_id: int,
    article_id: int,
    story_id: int,
    alerted: list[str],
    outcome: Outcome,
    now: datetime,
) -> int:
    """A correction, with what changed, for the watchlists this article had alerted."""
    alert = Alert(
        article_id=article_id,
        story_id=story_id,
        feed_id=feed_id,
        created_at=now,
        kind="correction",
        diff=outcome.diff,
        watchlists=",".join(alerted),
    )
    s.add(alert)
    s.flush()
    hits = [m for m in outcome.matches if m.watchlist in alerted]
    _outbox(s, alert.id, hits, alerted, outcome, now)
    return alert.id


def _outbox(
    s: Session,
    alert_id: int,
    matches: Iterable[Match],
    watchlists: Sequence[str],
    outcome: Outcome,
    now: datetime,
) -> None:
    s.add_all(_match_row(alert_id, m) for m in matches)
    channels = dict.fromkeys(ch for wl in watchlists for ch in outcome.routes.get(wl, ()))
    s.add_all(
        Delivery(
            alert_id=alert_id,
            channel=ch,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for ch in channels
    )


def _entry_row(
    feed_id: int, entry: Entry, article_id: int | None, now: datetime, *, is_backlog: bool
) -> EntryRow:
    return EntryRow(
        feed_id=feed_id,
        key=entry.key,
        article_id=article_id,
        title=entry.title[:2000],
        link=entry.link,
        published_at=entry.published,
        seen_at=now,
        is_backlog=is_backlog,
        digest=entry_digest(entry),
    )


def _match_row(alert_id: int, m: Match) -> MatchRow:
    return MatchRow(
        alert_id=alert_id,
        watchlist=m.watchlist,
        term=m.term,
        field=m.field,
        start=m.start,
        end=m.end,
        snippet=m.snippet,
        found=m.found,
    )
