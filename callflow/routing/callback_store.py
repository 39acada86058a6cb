"""Queued callbacks in memory (``CallbackRun``) and in the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from callflow.db.engine import Database
from callflow.db.models import Callback
from callflow.db.rows import RowWriter
from callflow.fsm import StateMachine
from callflow.routing.callback_policy import (
    OPEN,
    CallbackEvent,
    CallbackState,
    callback_machine,
)
from callflow.routing.runtime import CALLBACK_PREFIX
from callflow.routing.store import at, epoch


def virtual_channel(callback_id: int) -> str:
    return f"{CALLBACK_PREFIX}{callback_id}"


@dataclass
class CallbackRun:
    id: int
    queue: str
    number: str
    name: str
    priority: int
    entered_at: float  # the asking call's place in the queue
    requested_at: float
    asked_in: int
    machine: StateMachine[CallbackState, CallbackEvent]
    attempts: int = 0
    due_at: float = 0.0
    interaction_id: int = 0  # the callback call's interaction
    agent: str | None = None
    reason: str = ""
    seq: int = 0  # the asking call's order among equals
    answered_at: float = 0.0  # the customer answered (this attempt)
    dialing: str | None = None  # the customer's channel while it rings
    ended_at: float = 0.0

    @property
    def state(self) -> CallbackState:
        return self.machine.state

    @property
    def channel(self) -> str:
        return virtual_channel(self.id)

    def row(self) -> dict[str, Any]:
        return {
            "state": self.state.value, "attempts": self.attempts,
            "due_at": at(self.due_at) if self.due_at else None,
            "interaction_id": self.interaction_id or None, "agent": self.agent,
            "reason": self.reason[:200], "ended_at": at(self.ended_at) if self.ended_at else None,
        }  # fmt: skip


def run_of(row: Callback) -> CallbackRun:
    return CallbackRun(
        id=row.id or 0, queue=row.queue, number=row.number, name=row.name,
        priority=row.priority, entered_at=epoch(row.entered_at),
        requested_at=epoch(row.requested_at), asked_in=row.asked_in,
        machine=callback_machine(str(row.id), CallbackState(row.state)),
        attempts=row.attempts, due_at=epoch(row.due_at),
        interaction_id=row.interaction_id or 0, agent=row.agent, reason=row.reason,
        ended_at=epoch(row.ended_at),
    )  # fmt: skip


class CallbackStore:
    def __init__(self, db: Database, writer: RowWriter) -> None:
        """``writer`` must know the ``callback`` table (rounds shared with the calls')."""
        self.db = db
        self.writer = writer

    async def create(self, run: CallbackRun) -> int:
        values = {
            "queue": run.queue, "number": run.number, "name": run.name[:80],
            "priority": run.priority, "entered_at": at(run.entered_at),
            "requested_at": at(run.requested_at), "asked_in": run.asked_in, **run.row(),
        }  # fmt: skip
        return await self.writer.insert("callback", values)

    async def save(self, run: CallbackRun) -> None:
        await self.writer.update("callback", "id", run.id, run.row())

    async def open(self) -> list[CallbackRun]:
        """Every callback not over yet, oldest request first."""
        async with self.db.session() as session:
            rows = (
                await session.exec(
                    select(Callback)
                    .where(col(Callback.state).in_([s.value for s in OPEN]))
                    .order_by(col(Callback.id))
                )
            ).all()
        return [run_of(r) for r in rows]

    async def find(
        self, *, state: str | None = None, queue: str | None = None, limit: int = 200
    ) -> Sequence[Callback]:
        query = select(Callback).order_by(col(Callback.id).desc()).limit(limit)
        if state is not None:
            query = query.where(Callback.state == state)
        if queue is not None:
            query = query.where(Callback.queue == queue)
        async with self.db.session() as session:
            return (await session.exec(query)).all()

    async def get(self, callback_id: int) -> Callback | None:
        async with self.db.session() as session:
            return await session.get(Callback, callback_id)
