"""polling: each feed's rhythm of changes, its <ttl> and the hash of its last body

Revision ID: 0006_polling
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_polling"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_gap", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("last_change_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("body_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ttl", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("ttl")
        batch_op.drop_column("body_hash")
        batch_op.drop_column("last_change_at")
        batch_op.drop_column("change_gap")
