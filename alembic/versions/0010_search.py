"""search: a full-text index of stored articles

Revision ID: 0010_search
Revises: 0011_spikes

SQLite: an FTS5 table; PostgreSQL: a tsvector per article with a GIN index (see
monitor/store/search.py). Existing articles are indexed here, in batches.
"""

from __future__ import annotations

from alembic import op

from monitor.match.fulltext import index_text
from monitor.store import search

revision = "0010_search"
down_revision = "0011_spikes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.rebuild(op.get_bind(), index_text)


def downgrade() -> None:
    search.drop(op.get_bind())
