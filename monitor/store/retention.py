"""Retention in the database: remove old article text and delivery details, in batches.

An article's text goes with what was weighed from it for event stories: its event
profile and index rows (``event_profiles``, ``event_terms``). What stays, so that
nothing alerts twice and the history still reads: every entry (feed and guid), every
article row (URL key, canonical key, title, URL, story), its near-duplicate keys,
stories with their event and claims, alerts with their matches (snippets) and
deliveries. ``term_counts`` stays too: it counts the articles with each term since
counting began (key 0: how many), pruned or not, so the weights stay consistent.
Each batch is one short transaction: a writer waits at most one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, null, select, update

from monitor.model import DeliveryStatus
from monitor.store.db import Database
from monitor.store.tables import Article, Delivery, EventProfile, EventTerm

__all__ = ["Pending", "pending", "prune_articles", "prune_deliveries"]


@dataclass(frozen=True)
class Pending:
    """What a prune would remove."""

    articles: int
    text_chars: int  # the stored texts' length
    deliveries: int


def pending(
    db: Database, texts_before: datetime | None, details_before: datetime | None
) -> Pending:
    """Count what is older than the cutoffs (None: nothing of that kind)."""
    articles = chars = deliveries = 0
    with db.session() as s:
        if texts_before is not None:
            row = s.execute(
                select(func.count(), func.coalesce(func.sum(func.length(Article.text)), 0)).where(
                    Article.pruned_at.is_(None), Article.created_at < texts_before
                )
            ).one()
            articles, chars = int(row[0]), int(row[1])
        if details_before is not None:
            deliveries = int(
                s.scalar(
                    select(func.count()).where(
                        Delivery.status == DeliveryStatus.SENT.value,
                        Delivery.sent_at < details_before,
                        Delivery.targets.is_not(None),
                    )
                )
                or 0
            )
    return Pending(articles, chars, deliveries)


def prune_articles(db: Database, before: datetime, now: datetime, limit: int) -> int:
    """Empty the text of up to ``limit`` articles first seen before ``before``, oldest
    first, and drop their event profiles and index rows; the number done (0: none
    left). The revision moves on, so an edit read before the prune does not write the
    text back (see entries._apply_edit)."""
    with db.session() as s:
        ids = list(
            s.scalars(
                select(Article.id)
                .where(Article.pruned_at.is_(None), Article.created_at < before)
                .order_by(Article.created_at)  # the index's order: no sort
                .limit(limit)
            )
        )
        if ids:
            s.execute(
                update(Article)
                .where(Article.id.in_(ids))
                .values(text="", pruned_at=now, revision=Article.revision + 1)
            )
            s.execute(delete(EventTerm).where(EventTerm.article_id.in_(ids)))
            s.execute(delete(EventProfile).where(EventProfile.article_id.in_(ids)))
        return len(ids)


def prune_deliveries(db: Database, before: datetime, limit: int) -> int:
    """Drop the per-target details of up to ``limit`` deliveries sent before ``before``
    (the delivery itself, its channel, status and time stay)."""
    with db.session() as s:
        ids = list(
            s.scalars(
                select(Delivery.id)
                .where(
                    Delivery.status == DeliveryStatus.SENT.value,
                    Delivery.sent_at < before,
                    Delivery.targets.is_not(None),
                )
                .order_by(Delivery.id)
                .limit(limit)
            )
        )
        if ids:
            s.execute(update(Delivery).where(Delivery.id.in_(ids)).values(targets=null()))
        return len(ids)
