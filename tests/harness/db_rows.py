"""Read rows straight from callflow's database (SQLite or PostgreSQL), as an
admin would with a SQL client: for checks on what a separate process wrote."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from callflow.db.engine import make_sync_engine


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()
