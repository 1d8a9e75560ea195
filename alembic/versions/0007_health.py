"""feed health: incidents, notices through the outbox, feeds added from the command line

Revision ID: 0007_health
Revises: 0006_polling

A delivery now carries either an alert or a feed-health notice. Feeds that exist are
the config's (``origin = 'config'``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_health"
down_revision = "0006_polling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="config", nullable=False)
        )

    op.create_table(
        "feed_health",
        sa.Column("feed_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rhythm", sa.Float(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_feed_health_feed_id_feeds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("feed_id", name=op.f("pk_feed_health")),
    )

    op.create_table(
        "feed_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["feeds.id"],
            name=op.f("fk_feed_notices_feed_id_feeds"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_notices")),
    )
    with op.batch_alter_table("feed_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_notices_feed_id"), ["feed_id"])
        batch_op.create_index(batch_op.f("ix_feed_notices_created_at"), ["created_at"])

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_notice_id"), ["notice_id", "channel"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_notice_id_feed_notices"),
            "feed_notices",
            ["notice_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE alert_id IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_notice_id_feed_notices"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_deliveries_notice_id"), type_="unique")
        batch_op.drop_column("notice_id")
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("feed_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_notices_created_at"))
        batch_op.drop_index(batch_op.f("ix_feed_notices_feed_id"))
    op.drop_table("feed_notices")
    op.drop_table("feed_health")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("origin")
