"""Stories in the database: assignment, claims and members, as dataclasses.

Assignment and claims run inside the transaction that stores the article, after
``lock_stories``: on PostgreSQL a transaction-scoped advisory lock serialises story
assignment across every instance sharing the database; SQLite already serialises
writers (each transaction begins with BEGIN IMMEDIATE, see db.py). The primary key of
``story_claims`` (story, watchlist) is what makes "one alert per story and watchlist"
hold even without the lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, TextClause, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.orm import Session

from monitor.store.db import insert_for
from monitor.store.members import Member, event_members, members, source_name
from monitor.store.tables import Article, Story, StoryClaim, StoryKey, UtcDateTime

__all__ = [
    "CANDIDATES",
    "MIN_SHARED",
    "PER_KEY",
    "Identity",
    "Member",
    "add_keys",
    "claim",
    "event_members",
    "find_story",
    "lock_stories",
    "members",
    "new_story",
    "replace_keys",
    "source_name",
    "touch",
]

CANDIDATES = 5  # candidates checked exactly, most shared keys first
MIN_SHARED = 2  # keys a candidate must share; one alone is often a common phrase
PER_KEY = 50  # newest postings read per key: a key as common as boilerplate costs no more
_LOCK_KEY = 0x6E6577736D6F6E  # "newsmon"
_KEYS = cast(Table, StoryKey.__table__)
_STORIES = cast(Table, Story.__table__)
_CLAIMS = cast(Table, StoryClaim.__table__)
_INSERT_STORY = insert(_STORIES).returning(_STORIES.c.id)
_TAKEN = select(_CLAIMS.c.watchlist).where(
    _CLAIMS.c.story_id == bindparam("story_id"),
    _CLAIMS.c.watchlist.in_(bindparam("watchlists", expanding=True)),
)
_INSERT_KEYS = insert(_KEYS)
# an article whose page named this URL as canonical ...
_NAMED_CANONICAL = (
    select(Article.story_id)
    .where(Article.canonical_key == bindparam("url_key"), Article.story_id.is_not(None))
    .limit(1)  # no ORDER BY: PostgreSQL would walk the primary key instead of the index
)
# ... or stored under this page's canonical URL, or naming the same canonical URL
_BY_CANONICAL = (
    select(Article.story_id)
    .where(
        or_(
            Article.canonical_key == bindparam("url_key"),
            Article.url_key == bindparam("canonical"),
            Article.canonical_key == bindparam("canonical"),
        ),
        Article.story_id.is_not(None),
    )
    .limit(1)
)


@dataclass(frozen=True)
class Identity:
    """What places an article in a story: its canonical link and its content."""

    canonical_key: str | None
    keys: Sequence[int]
    # given candidates (story id, text), most shared keys first: the story to join
    pick: Callable[[Sequence[tuple[int, str]]], int | None]
    since: datetime  # only stories with an article this recent are candidates


def lock_stories(s: Session) -> None:
    """Serialise story assignment for the rest of this transaction."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def find_story(s: Session, url_key: str, identity: Identity) -> int | None:
    """The story a new article belongs to: by canonical link first, then by content."""
    conn = s.connection()  # Core statements: this is the hot path of every new article
    query = _BY_CANONICAL if identity.canonical_key else _NAMED_CANONICAL
    found = conn.execute(query, {"url_key": url_key, "canonical": identity.canonical_key}).scalar()
    if found is not None or not identity.keys:
        return found
    keys = list(dict.fromkeys(identity.keys))
    if conn.dialect.name == "postgresql":
        lookup: dict[str, object] = {"keys": keys, "since": identity.since}
        postings = _POSTINGS_PG
    else:
        lookup = {f"k{i}": k for i, k in enumerate(keys)}
        lookup["since"] = identity.since
        postings = _postings_query(len(keys))
    found_ids: list[int] = list(conn.execute(postings, lookup).scalars())
    shared = Counter(found_ids)
    likely = [a for a, n in shared.items() if n >= MIN_SHARED]
    ranked = sorted(likely, key=lambda a: (-shared[a], -a))[:CANDIDATES]
    if not ranked:
        return None
    order = {art: n for n, art in enumerate(ranked)}
    rows = conn.execute(
        select(Article.id, Article.text, Article.story_id).where(
            Article.id.in_(list(order)), Article.story_id.is_not(None)
        )
    ).all()
    candidates = [(int(r.story_id), r.text) for r in sorted(rows, key=lambda r: order[r.id])]
    return identity.pick(candidates) if candidates else None


_FLOOR = "(SELECT id FROM articles WHERE created_at >= :since ORDER BY created_at LIMIT 1)"
# PostgreSQL: one small plan for any number of keys (a 32-branch UNION takes ~10 ms to plan)
_POSTINGS_PG = text(
    "SELECT p.article_id FROM unnest(CAST(:keys AS bigint[])) AS k(key) "
    "CROSS JOIN LATERAL (SELECT article_id FROM story_keys "
    f"WHERE story_keys.key = k.key AND article_id >= {_FLOOR} "
    f"ORDER BY article_id DESC LIMIT {PER_KEY}) AS p"
).bindparams(bindparam("since", type_=UtcDateTime()))


@lru_cache(maxsize=8)
def _postings_query(count: int) -> TextClause:
    """The newest ``PER_KEY`` articles of each key within the window, in one round trip
    (one statement per number of keys, so the database prepares it once). The window's
    first article id is an uncorrelated subquery: computed once per statement."""
    floor = _FLOOR
    one = (
        "SELECT * FROM (SELECT article_id FROM story_keys WHERE key = :k{i} "
        f"AND article_id >= {floor} ORDER BY article_id DESC LIMIT {PER_KEY}) AS p{{i}}"
    )
    return text(" UNION ALL ".join(one.format(i=i) for i in range(count))).bindparams(
        bindparam("since", type_=UtcDateTime())
    )


def new_story(s: Session, title: str, now: datetime) -> int:
    values = {"title": title[:2000], "first_seen_at": now, "last_seen_at": now}
    return int(s.connection().execute(_INSERT_STORY, values).scalar_one())


def touch(s: Session, story_id: int, now: datetime) -> None:
    """A new member joined: the story was seen again."""
    s.execute(update(Story).where(Story.id == story_id).values(last_seen_at=now))


def add_keys(s: Session, article_id: int, keys: Iterable[int]) -> None:
    rows = [{"key": k, "article_id": article_id} for k in dict.fromkeys(keys)]
    if rows:
        s.connection().execute(_INSERT_KEYS, rows)


def replace_keys(s: Session, article_id: int, keys: Iterable[int]) -> None:
    s.execute(delete(StoryKey).where(StoryKey.article_id == article_id))
    add_keys(s, article_id, keys)


def claim(
    s: Session, story_id: int, watchlists: Sequence[str], alert_id: int, now: datetime
) -> list[str]:
    """Claim the story for each watchlist not yet claimed; returns those claimed now."""
    asked = {"story_id": story_id, "watchlists": list(watchlists)}
    taken = set(s.connection().execute(_TAKEN, asked).scalars())
    won = []
    insert_claim = _insert_claim(s.get_bind().dialect.name)
    for watchlist in dict.fromkeys(watchlists):
        if watchlist in taken:
            continue
        values = {"story_id": story_id, "watchlist": watchlist, "alert_id": alert_id}
        done = s.connection().execute(insert_claim, values | {"created_at": now, "grown_to": 0})
        if done.scalar() is not None:  # else another instance claimed it first
            won.append(watchlist)
    return won


@lru_cache(maxsize=2)
def _insert_claim(dialect: str) -> Any:
    """A claim, or nothing where the (story, watchlist) key is taken."""
    return (
        insert_for(dialect)(_CLAIMS)
        .on_conflict_do_nothing(index_elements=["story_id", "watchlist"])
        .returning(_CLAIMS.c.watchlist)
    )
