"""stories: near-duplicate grouping, one alert per story and watchlist, corrections

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Every existing article becomes a story of its own, and every existing alert claims its
story for the watchlists it matched, so nothing that already alerted alerts again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stories_first_seen_at"), ["first_seen_at"])

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("canonical_key", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_articles_canonical_key"), ["canonical_key"])
        batch_op.create_index(batch_op.f("ix_articles_story_id"), ["story_id"])
        batch_op.create_index(batch_op.f("ix_articles_created_at"), ["created_at"])
        batch_op.create_foreign_key(
            batch_op.f("fk_articles_story_id_stories"), "stories", ["story_id"], ["id"]
        )

    op.create_table(
        "story_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_story_keys_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "article_id", name=op.f("pk_story_keys")),
        sqlite_with_rowid=False,
    )

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_article_id", type_="unique")
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="new", nullable=False)
        )
        batch_op.add_column(sa.Column("diff", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("watchlists", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alerts_article_id"), ["article_id"])
        batch_op.create_index(batch_op.f("ix_alerts_story_id"), ["story_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_story_id_stories"), "stories", ["story_id"], ["id"]
        )

    op.create_table(
        "story_claims",
        sa.Column("story_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("watchlist", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_story_claims_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_claims_story_id_stories")
        ),
        sa.PrimaryKeyConstraint("story_id", "watchlist", name=op.f("pk_story_claims")),
    )
    with op.batch_alter_table("story_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_claims_alert_id"), ["alert_id"])

    _backfill()


def _backfill() -> None:
    """One story per existing article; existing alerts claim their watchlists."""
    op.execute(
        "INSERT INTO stories (id, title, first_seen_at, last_seen_at) "
        "SELECT id, title, created_at, created_at FROM articles"
    )
    op.execute("UPDATE articles SET story_id = id")
    op.execute("UPDATE alerts SET story_id = article_id")
    op.execute(
        "INSERT INTO story_claims (story_id, watchlist, alert_id, created_at) "
        "SELECT a.article_id, m.watchlist, MIN(a.id), MIN(a.created_at) "
        "FROM alerts a JOIN matches m ON m.alert_id = a.id GROUP BY a.article_id, m.watchlist"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('stories', 'id'), "
            "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM stories"
        )


def downgrade() -> None:
    with op.batch_alter_table("story_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_claims_alert_id"))
    op.drop_table("story_claims")

    op.execute(
        "DELETE FROM alerts WHERE id NOT IN (SELECT MIN(id) FROM alerts GROUP BY article_id)"
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_alerts_story_id_stories"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_alerts_story_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_article_id"))
        batch_op.drop_column("watchlists")
        batch_op.drop_column("diff")
        batch_op.drop_column("kind")
        batch_op.drop_column("story_id")
        batch_op.create_unique_constraint("uq_alerts_article_id", ["article_id"])

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_column("digest")

    op.drop_table("story_keys")

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_articles_story_id_stories"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_articles_created_at"))
        batch_op.drop_index(batch_op.f("ix_articles_story_id"))
        batch_op.drop_index(batch_op.f("ix_articles_canonical_key"))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("revision")
        batch_op.drop_column("story_id")
        batch_op.drop_column("canonical_key")

    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stories_first_seen_at"))
    op.drop_table("stories")
