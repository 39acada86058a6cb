"""Column types shared by the tables.

``UtcDateTime``: every time callflow stores is UTC, and every time it reads
back carries the UTC zone, whatever the database. PostgreSQL keeps the zone
(``timestamp with time zone``); SQLite keeps none and hands back naive
values. Without this, the API would answer ``...T10:00:00`` on one store and
``...T10:00:00+00:00`` on the other, and a console could read only one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give it a zone (UTC)")
        utc: datetime = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def when(*, index: bool = False, nullable: bool = True) -> Column[datetime]:
    """A UTC time column."""
    return Column(UtcDateTime(), nullable=nullable, index=index)
