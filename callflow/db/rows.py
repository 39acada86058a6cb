"""Small row writes of the call path, in shared rounds (``batch.GroupCommit``).

A call's interaction row, its agent's state and its recordings' rows are
written many times a second under load; each through its own transaction
would cost a commit (an fsync on SQLite) apiece. ``RowWriter`` takes new
rows and updates of one row by its key, for the tables it is given, and
writes everything waiting in one round: the new rows of a table in one
INSERT, the updates merged per row (later values win, as if run one after
another) and run as one executemany per table and set of columns. One
writer is shared by every store of the call path, so a call's writes share
their commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from callflow.db.batch import GroupCommit, insert_many
from callflow.db.engine import Database
from callflow.tasks import Tasks

# seconds between the starts of two rounds under load: at 40 calls/s nearly
# every round carried one write (300 commits/s); 10 ms caps it at 100/s
ROUND_SPACING = 0.01


@dataclass(frozen=True)
class RowWrite:
    """A new row (``key_column`` None) or an update of one row by its key."""

    table: str
    key_column: str | None
    key: Any
    values: dict[str, Any]


class RowWriter:
    def __init__(self, db: Database, tasks: Tasks | None, models: Sequence[type[SQLModel]]) -> None:
        self.models = {m.__table__.name: m for m in models}  # type: ignore[attr-defined]
        self._writes: GroupCommit[RowWrite, Any] = GroupCommit(
            db, tasks, self._write, name="calls", spacing=ROUND_SPACING
        )

    async def insert(self, table: str, values: dict[str, Any]) -> int:
        """A new row of ``table``; its id once committed."""
        created = await self._writes.submit(RowWrite(table, None, None, values))
        assert isinstance(created, int)
        return created

    async def update(self, table: str, key_column: str, key: Any, values: dict[str, Any]) -> None:
        await self._writes.submit(RowWrite(table, key_column, key, values))

    async def _write(self, session: AsyncSession, writes: Sequence[RowWrite]) -> list[Any]:
        """One round: the new id for an insert, None for an update."""
        ids: dict[int, int] = {}
        for table, model in self.models.items():
            new = [
                (n, w) for n, w in enumerate(writes) if w.key_column is None and w.table == table
            ]
            if new:
                created = await insert_many(session, model, [w.values for _, w in new])
                ids.update(zip((n for n, _ in new), created, strict=True))
        merged: dict[tuple[str, str, Any], dict[str, Any]] = {}
        for w in writes:
            if w.key_column is not None:
                merged.setdefault((w.table, w.key_column, w.key), {}).update(w.values)
        shapes: dict[tuple[str, str, tuple[str, ...]], list[dict[str, Any]]] = {}
        for (table, key_column, key), values in merged.items():
            shape = (table, key_column, tuple(sorted(values)))
            shapes.setdefault(shape, []).append({"_key": key, **values})
        connection = await session.connection()
        for (table, key_column, columns), rows in shapes.items():
            target = self.models[table].__table__  # type: ignore[attr-defined]
            statement = (
                update(target)
                .where(target.c[key_column] == bindparam("_key"))
                .values({c: bindparam(c) for c in columns})
            )
            await connection.execute(statement, rows)
        return [ids.get(n) for n in range(len(writes))]
