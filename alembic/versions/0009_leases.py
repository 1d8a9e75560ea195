"""leases: the instance polling a feed and until when; the instance sending a delivery

Revision ID: 0009_leases
Revises: 0010_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_leases"
down_revision = "0010_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of ``feeds`` would
    # have to drop a table that other tables' foreign keys point at.
    op.drop_column("deliveries", "claimed_by")
    op.drop_column("feeds", "lease_until")
    op.drop_column("feeds", "lease_owner")
