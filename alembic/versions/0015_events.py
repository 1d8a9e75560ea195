"""events: stories that report one news event, growth alerts

Revision ID: 0015_events
Revises: 0014_encoding

Upgrade: ``stories.event_id`` and ``stories.reported_at``; every existing story becomes
an event of its own (``event_id = id``, ``reported_at = last_seen_at``), so its claims,
which are the event's claims, still stop it alerting again. New tables
``event_profiles`` and ``event_terms`` (the event index, filled for new articles) and
``term_counts`` (document frequencies, counted from new articles on);
``story_claims.grown_to`` (0). Downgrade: dropped again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_events"
down_revision = "0014_encoding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_stories_event_id"), ["event_id"])
    op.execute("UPDATE stories SET event_id = id, reported_at = last_seen_at")
    with op.batch_alter_table("story_claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grown_to", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "event_profiles",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_event_profiles_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_event_profiles")),
    )
    with op.batch_alter_table("event_profiles", schema=None) as batch_op:
        batch_op.create_index("ix_event_profiles_event_id_at", ["event_id", "at"])
    op.create_table(
        "event_terms",
        sa.Column("term", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_event_terms_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "article_id", name=op.f("pk_event_terms")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("event_terms", schema=None) as batch_op:
        batch_op.create_index("ix_event_terms_term_at", ["term", "at"])
    op.create_table(
        "term_counts",
        sa.Column("term", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_term_counts")),
    )


def downgrade() -> None:
    op.drop_table("term_counts")
    op.drop_table("event_terms")
    op.drop_table("event_profiles")
    with op.batch_alter_table("story_claims", schema=None) as batch_op:
        batch_op.drop_column("grown_to")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stories_event_id"))
        batch_op.drop_column("reported_at")
        batch_op.drop_column("event_id")
