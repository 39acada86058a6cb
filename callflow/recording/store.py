"""The recordings' rows: a segment started, paused, finished; the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from callflow.db.engine import Database
from callflow.db.models import Recording, RecordingAccess
from callflow.db.rows import RowWriter


class RecordingStore:
    def __init__(self, db: Database, writer: RowWriter) -> None:
        """``writer``: the call path's shared rounds (it must know the
        ``recording`` table): a segment's rows share their commits with the
        call's own writes."""
        self.db = db
        self.writer = writer

    async def started(self, row: Recording) -> int:
        return await self.writer.insert("recording", row.model_dump(exclude={"id"}))

    async def update(self, name: str, **values: Any) -> None:
        await self.writer.update("recording", "name", name, values)

    async def live(self) -> Sequence[Recording]:
        """Segments a previous process left recording or paused."""
        async with self.db.session() as session:
            return (
                await session.exec(
                    select(Recording).where(col(Recording.state).in_(("recording", "paused")))
                )
            ).all()

    async def of_interaction(self, interaction_id: int) -> Sequence[Recording]:
        async with self.db.session() as session:
            return (
                await session.exec(
                    select(Recording)
                    .where(Recording.interaction_id == interaction_id)
                    .order_by(col(Recording.id))
                )
            ).all()

    async def by_token(self, token: str) -> Recording | None:
        async with self.db.session() as session:
            return (await session.exec(select(Recording).where(Recording.token == token))).first()

    async def accessed(self, recording_id: int, username: str, action: str, when: datetime) -> None:
        async with self.db.session() as session:
            session.add(RecordingAccess(recording_id=recording_id, username=username,
                                        action=action, at=when))  # fmt: skip
            await session.commit()
