"""delivery: claims for crash-safe sending and per-target outcomes

Revision ID: 0005
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("targets", sa.JSON(), nullable=True))
        batch_op.create_index("ix_deliveries_channel_sent_at", ["channel", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_channel_sent_at")
        batch_op.drop_column("targets")
        batch_op.drop_column("claimed_at")
