"""The append-only event log (callflow's queue_log): calls and agents.

Theory of operation: ``record`` only queues the entry (a plain record, not
an ORM object: a call makes a dozen); a writer task inserts what has queued
up in one INSERT of many rows (every ``flush_interval`` or sooner when many
are waiting). A call produces a dozen entries, so this keeps the
database off the call path. Readers flush first, so they see everything
recorded before they asked; ``close`` flushes what is left. A crash loses at
most the entries of the last flush interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select

from callflow.db.engine import Database
from callflow.db.models import LogEntry, utcnow
from callflow.tasks import Tasks

log = logging.getLogger("callflow.events")


@dataclass(slots=True)
class Entry:
    """One event as recorded, before it is written (an ``event_log`` row)."""

    at: datetime
    kind: str
    channel_id: str | None
    interaction_id: int | None
    queue: str | None
    agent: str | None
    detail: dict[str, Any]

    def row(self) -> dict[str, Any]:
        """As the table's columns (``dataclasses.asdict`` would copy ``detail`` deeply)."""
        return {
            "at": self.at, "kind": self.kind, "channel_id": self.channel_id,
            "interaction_id": self.interaction_id, "queue": self.queue, "agent": self.agent,
            "detail": self.detail,
        }  # fmt: skip


class EventLog:
    def __init__(
        self, db: Database, tasks: Tasks, *, flush_interval: float = 0.05, batch: int = 200
    ) -> None:
        self._db = db
        self._tasks = tasks
        self._interval = flush_interval
        self._batch = batch
        self._pending: list[Entry] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[Any] | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self.observers: list[Callable[[Entry], None]] = []  # told of every entry

    async def record(
        self,
        kind: str,
        *,
        channel: str | None = None,
        interaction: int | None = None,
        queue: str | None = None,
        agent: str | None = None,
        **detail: Any,
    ) -> None:
        if self._closed:
            log.warning("event %s after shutdown not recorded: %s", kind, detail)
            return
        entry = Entry(utcnow(), kind, channel, interaction, queue, agent, detail)
        self._pending.append(entry)
        for observer in self.observers:
            observer(entry)
        log.debug("%s channel=%s queue=%s agent=%s %s", kind, channel, queue, agent, detail)
        if self._writer is None or self._writer.done():
            self._writer = self._tasks.spawn(self._write_loop(), "event-log")
        if len(self._pending) >= self._batch:
            self._wake.set()

    async def _write_loop(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            entries, self._pending = self._pending, []
            if not entries:
                return
            try:
                async with self._db.session() as session:
                    connection = await session.connection()
                    await connection.execute(insert(LogEntry), [e.row() for e in entries])
                    await session.commit()
            except Exception:
                self._pending[:0] = entries  # keep them for the next attempt
                raise

    async def close(self) -> None:
        self._closed = True
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def for_channel(self, channel_id: str) -> Sequence[LogEntry]:
        return await self._select(LogEntry.channel_id == channel_id)

    async def of_kind(self, kind: str) -> Sequence[LogEntry]:
        return await self._select(LogEntry.kind == kind)

    async def for_agent(self, agent: str) -> Sequence[LogEntry]:
        return await self._select(LogEntry.agent == agent)

    async def _select(self, condition: Any) -> Sequence[LogEntry]:
        await self.flush()
        async with self._db.session() as session:
            result = await session.exec(
                select(LogEntry).where(condition).order_by(col(LogEntry.id))
            )
            return result.all()
