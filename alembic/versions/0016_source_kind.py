"""source kind: each source's configured kind and the kind its last document was read as

Revision ID: 0016_source_kind
Revises: 0015_events

Upgrade: nullable ``feeds.kind`` (as configured: feed, sitemap, page or telegram; NULL:
detected from each response) and ``feeds.detected_kind`` (filled in by the next poll
that reads a document). Downgrade: the columns are dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_source_kind"
down_revision = "0015_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("detected_kind", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("detected_kind")
        batch_op.drop_column("kind")
