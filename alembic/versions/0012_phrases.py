"""phrases: the full-text index keeps each article's words in order, with positions

Revision ID: 0012_phrases
Revises: 0009_leases

Upgrade: the index is built anew in that form (monitor/store/search.py), in batches, so
that a phrase is asked of the index as a phrase. Downgrade: built anew in the form of
0010 (each article's distinct words; on PostgreSQL without positions).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

from monitor.match.fulltext import index_text
from monitor.match.normalize import normalise
from monitor.store import search

revision = "0012_phrases"
down_revision = "0009_leases"
branch_labels = None
depends_on = None

_BATCH = 1000
_WORD = re.compile(r"\w+")
_OLD_MAX_BYTES = search.PG_MAX_BYTES  # (0010 allowed 900 kB, more than PostgreSQL takes)


def upgrade() -> None:
    search.rebuild(op.get_bind(), index_text)


def downgrade() -> None:
    conn = op.get_bind()
    search.drop(conn)
    search.create(conn)
    if conn.dialect.name == "sqlite":
        insert = sa.text(f"INSERT INTO {search.TABLE} (rowid, terms) VALUES (:id, :terms)")
    else:
        insert = sa.text(
            f"INSERT INTO {search.TABLE} (article_id, doc) "
            "VALUES (:id, strip(to_tsvector('simple', :terms)))"
        )
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("text", sa.Text),
        sa.column("sitename", sa.Text),
        sa.column("url", sa.Text),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(articles).where(articles.c.id > last).order_by(articles.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        conn.execute(insert, [{"id": r.id, "terms": _old_terms(*r[1:])} for r in rows])
        last = rows[-1].id
    search.create_lookup(conn)


def _old_terms(title: str, text: str, sitename: str | None, url: str | None) -> str:
    """0010's form: the distinct words of title, source and text, first come first."""
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        host = ""
    seen: dict[str, None] = {}
    size = 0
    for field in (title, sitename or "", host, text):
        for word in _WORD.findall(normalise(field).casefold()):
            if word not in seen:
                size += len(word.encode()) + 1
                if size > _OLD_MAX_BYTES:
                    return " ".join(seen)
                seen[word] = None
    return " ".join(seen)
