"""Queued callbacks: a caller who asked to be called back keeps their place."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from callflow.db.models.types import when


class Callback(SQLModel, table=True):
    """One callback, from the caller's request to its end (``state``, see
    ``callflow.routing.callback_policy``). ``entered_at`` and ``priority`` are
    the asking call's: the callback waits at that call's place."""

    id: int | None = Field(default=None, primary_key=True)
    queue: str = Field(max_length=40, index=True)
    number: str = Field(max_length=21, index=True)  # the number to call
    name: str = Field(default="", max_length=80)  # the caller's name, as their call showed it
    priority: int = 0
    entered_at: datetime = Field(sa_column=when(nullable=False))  # the place in the queue
    requested_at: datetime = Field(sa_column=when(nullable=False, index=True))
    state: str = Field(default="waiting", max_length=12, index=True)
    attempts: int = 0  # calls to the customer made so far
    due_at: datetime | None = Field(default=None, sa_column=when())  # next opening / retry
    asked_in: int = Field(index=True)  # the interaction of the call that asked for it
    interaction_id: int | None = Field(default=None, index=True)  # the callback call's
    agent: str | None = Field(default=None, max_length=40)  # who took it last
    reason: str = Field(default="", max_length=200)  # failed, cancelled, rescheduled: why
    ended_at: datetime | None = Field(default=None, sa_column=when(index=True))
