"""rhythm basis: what a feed's rhythm was learned from, so it is not learned again

Revision ID: 0018_rhythm_basis
Revises: 0017_event_prune

Upgrade: ``feed_health.rhythm_basis`` (nullable): the feed's newest entry, its interval
and the way the rhythm is learned, when its rhythm was last learned. While they are the
same, the health check after every poll pass takes the stored rhythm instead of reading
up to 200 of the feed's entries again (monitor/store/health.py). Empty after the upgrade:
each feed's rhythm is learned once more. Downgrade: the column is dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_rhythm_basis"
down_revision = "0017_event_prune"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rhythm_basis", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feed_health", schema=None) as batch_op:
        batch_op.drop_column("rhythm_basis")
