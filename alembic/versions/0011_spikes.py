"""stats and spikes: hourly alert counts, spike state, deliveries about spikes

Revision ID: 0011_spikes
Revises: 0008_retention

``alert_counts`` holds new alerts per UTC hour per watchlist, feed and term (what
``newsmon stats`` reads); it is filled here from the alerts already stored. ``spikes``
records each spike of a watchlist once. A delivery is about an alert or about a spike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_spikes"
down_revision = "0008_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_counts",
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=600), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "hour", "name", name=op.f("pk_alert_counts")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "spikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watchlist", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("window", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spikes")),
        sa.UniqueConstraint("watchlist", "number", name=op.f("uq_spikes_watchlist")),
    )
    with op.batch_alter_table("spikes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spikes_started_at"), ["started_at"])

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("spike_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_spike_id_spikes"),
            "spikes",
            ["spike_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_spike_id"), ["spike_id", "channel"]
        )
        batch_op.create_check_constraint(
            "one_subject",
            sa.text(
                "(CASE WHEN alert_id IS NULL THEN 0 ELSE 1 END"
                " + CASE WHEN notice_id IS NULL THEN 0 ELSE 1 END"
                " + CASE WHEN spike_id IS NULL THEN 0 ELSE 1 END) = 1"
            ),
        )

    with op.batch_alter_table("story_claims", schema=None) as batch_op:
        batch_op.create_index(
            "ix_story_claims_created_at_watchlist", ["created_at", "watchlist"], unique=False
        )

    _count_existing()


def _count_existing() -> None:
    """New alerts per hour, as the write path counts them (monitor/store/counts.py)."""
    if op.get_bind().dialect.name == "postgresql":
        hour = "date_trunc('hour', {0} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    else:  # SQLAlchemy's SQLite format: 'YYYY-MM-DD HH:MM:SS.ffffff'
        hour = "strftime('%Y-%m-%d %H:00:00.000000', {0})"
    claims, alerts = hour.format("created_at"), hour.format("a.created_at")
    op.execute(
        "INSERT INTO alert_counts (dimension, hour, name, count) "
        f"SELECT 'watchlist', {claims}, watchlist, COUNT(*) FROM story_claims "
        f"GROUP BY {claims}, watchlist"
    )
    op.execute(
        "INSERT INTO alert_counts (dimension, hour, name, count) "
        f"SELECT 'feed', {alerts}, f.name, COUNT(*) FROM alerts a "
        "JOIN feeds f ON f.id = a.feed_id WHERE a.kind = 'new' "
        f"GROUP BY {alerts}, f.name"
    )
    label = "substr(m.watchlist || ': ' || m.term, 1, 600)"
    op.execute(
        "INSERT INTO alert_counts (dimension, hour, name, count) "
        f"SELECT 'term', {alerts}, {label}, COUNT(DISTINCT a.id) FROM alerts a "
        "JOIN matches m ON m.alert_id = a.id WHERE a.kind = 'new' "
        f"GROUP BY {alerts}, {label}"
    )


def downgrade() -> None:
    with op.batch_alter_table("story_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_story_claims_created_at_watchlist")
    op.execute("DELETE FROM deliveries WHERE spike_id IS NOT NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("one_subject", type_="check")
        batch_op.drop_constraint(batch_op.f("uq_deliveries_spike_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_spike_id_spikes"), type_="foreignkey")
        batch_op.drop_column("spike_id")
        batch_op.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("spikes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spikes_started_at"))
    op.drop_table("spikes")
    op.drop_table("alert_counts")
