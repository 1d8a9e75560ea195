"""Storage: SQLAlchemy sessions and queries. Hands out dataclasses, never ORM rows."""
