"""retention: when an article's text was pruned

Revision ID: 0008_retention
Revises: 0007_health
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_retention"
down_revision = "0007_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_articles_pruned_at_created_at", ["pruned_at", "created_at"], unique=False
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of ``articles``
    # would have to drop a table that other tables' foreign keys point at.
    op.drop_index("ix_articles_pruned_at_created_at", table_name="articles")
    op.drop_column("articles", "pruned_at")
