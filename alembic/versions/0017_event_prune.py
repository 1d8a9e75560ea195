"""event prune: the event index found by article, so retention can drop an article's rows

Revision ID: 0017_event_prune
Revises: 0016_source_kind

Upgrade: index ``ix_event_terms_article_id`` on ``event_terms (article_id)``: when
retention empties an article's text it also drops its event profile and index rows
(monitor/store/retention.py), a lookup by article that the primary key (term first)
cannot serve. Downgrade: the index is dropped.
"""

from __future__ import annotations

from alembic import op

revision = "0017_event_prune"
down_revision = "0016_source_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_terms", schema=None) as batch_op:
        batch_op.create_index("ix_event_terms_article_id", ["article_id"])


def downgrade() -> None:
    with op.batch_alter_table("event_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_event_terms_article_id")
