"""Alert counts per UTC hour, per watchlist, feed and term: what ``newsmon stats`` reads.

``count_alert`` adds a new alert in the transaction that raises it, so reading a month
of history costs one query over at most hours x names rows, however many alerts there
are. A correction is not a new alert and is not counted. An alert counts once for each
watchlist it alerted, once for its feed, and once for each (watchlist, term) it matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, cast

from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    bindparam,
    case,
    delete,
    distinct,
    extract,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from monitor.store.db import Database, insert_for
from monitor.store.tables import Alert, AlertCount, Feed, MatchRow, StoryClaim

__all__ = [
    "DIMENSIONS",
    "Counted",
    "Dimension",
    "Run",
    "count_alert",
    "counts",
    "recount",
    "term_label",
]

Dimension = Literal["watchlist", "feed", "term"]
DIMENSIONS: tuple[Dimension, ...] = ("watchlist", "feed", "term")
_COUNTS = cast(Table, AlertCount.__table__)
_NAME_MAX = 600
_FEED_NAME = select(Feed.name).where(Feed.id == bindparam("id"))


@dataclass(frozen=True)
class Run:
    """Buckets of one width in a row: bucket ``first + k`` starts ``k * width`` seconds
    after ``start`` (a whole UTC hour). Days change width with daylight saving time."""

    first: int
    start: datetime
    width: int  # seconds, a whole number of hours
    end: datetime


@dataclass(frozen=True)
class Counted:
    name: str
    bucket: int
    count: int


def term_label(watchlist: str, term: str) -> str:
    return f"{watchlist}: {term}"[:_NAME_MAX]


def count_alert(
    s: Session,
    created_at: datetime,
    watchlists: Iterable[str],
    feed_id: int | None,
    terms: Iterable[tuple[str, str]],
) -> None:
    """Count one new alert (inside the transaction that stores it)."""
    hour = created_at.replace(minute=0, second=0, microsecond=0)
    keys = [("watchlist", w) for w in dict.fromkeys(watchlists)]
    if feed_id is not None:
        name = s.connection().execute(_FEED_NAME, {"id": feed_id}).scalar()
        keys += [("feed", name)] if name is not None else []
    keys += [("term", term_label(w, t)) for w, t in dict.fromkeys(terms)]
    # always in the same order: two writers never wait for each other's rows crosswise
    rows = [{"dimension": d, "hour": hour, "name": n, "count": 1} for d, n in sorted(keys)]
    if rows:
        s.connection().execute(_upsert(s.get_bind().dialect.name), rows)


@lru_cache(maxsize=2)
def _upsert(dialect: str) -> Any:
    statement = insert_for(dialect)(_COUNTS)
    return statement.on_conflict_do_update(
        index_elements=["dimension", "hour", "name"],
        set_={"count": _COUNTS.c.count + statement.excluded.count},
    )


def counts(db: Database, dimension: Dimension, runs: Sequence[Run]) -> list[Counted]:
    """Alerts per name and bucket over ``runs`` (in time order): one aggregate query
    over the hourly counts."""
    with db.session() as s:
        epoch = _epoch(s.get_bind().dialect.name)
        bucket = case(
            *(
                (
                    AlertCount.hour < run.end,
                    run.first + (epoch - int(run.start.timestamp())) // run.width,
                )
                for run in runs
            ),
            else_=-1,
        ).label("bucket")
        query = (
            select(AlertCount.name, bucket, func.sum(AlertCount.count))
            .where(
                AlertCount.dimension == dimension,
                AlertCount.hour >= runs[0].start,
                AlertCount.hour < runs[-1].end,
            )
            .group_by(AlertCount.name, bucket)
        )
        return [Counted(name, int(k), int(n)) for name, k, n in s.execute(query)]


def recount(db: Database) -> int:
    """Count every stored alert again, as ``count_alert`` would have (for history that
    was imported around it, e.g. a benchmark's bulk insert). Returns the rows written."""
    with db.session() as s:
        dialect = s.get_bind().dialect.name
        s.execute(delete(AlertCount))
        claim_hour = _hour(dialect, StoryClaim.created_at)
        alert_hour = _hour(dialect, Alert.created_at)
        label = func.substr(MatchRow.watchlist + ": " + MatchRow.term, 1, _NAME_MAX)
        is_new = Alert.kind == "new"
        sources = [
            select(literal("watchlist"), claim_hour, StoryClaim.watchlist, func.count()).group_by(
                claim_hour, StoryClaim.watchlist
            ),
            select(literal("feed"), alert_hour, Feed.name, func.count())
            .join(Feed, Feed.id == Alert.feed_id)
            .where(is_new)
            .group_by(alert_hour, Feed.name),
            select(literal("term"), alert_hour, label, func.count(distinct(Alert.id)))
            .join(MatchRow, MatchRow.alert_id == Alert.id)
            .where(is_new)
            .group_by(alert_hour, label),
        ]
        columns = ["dimension", "hour", "name", "count"]
        for source in sources:
            s.execute(insert(_COUNTS).from_select(columns, source))
        return int(s.scalar(select(func.count()).select_from(AlertCount)) or 0)


def _hour(dialect: str, column: Any) -> Any:
    """The UTC hour a time falls in, as stored (SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    if dialect == "postgresql":
        return func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", column)))
    return func.strftime("%Y-%m-%d %H:00:00.000000", column)


def _epoch(dialect: str) -> Any:
    """Seconds since 1970 of ``hour``, as an integer, in SQL."""
    if dialect == "postgresql":
        return sql_cast(extract("epoch", AlertCount.hour), BigInteger)
    return sql_cast(func.strftime("%s", AlertCount.hour), Integer)
