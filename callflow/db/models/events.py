"""The append-only event log of calls and agents (in the spirit of queue_log)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from callflow.db.models.types import when


def utcnow() -> datetime:
    return datetime.now(UTC)


class LogEntry(SQLModel, table=True):
    __tablename__ = "event_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=when(nullable=False, index=True))
    kind: str = Field(max_length=40, index=True)
    channel_id: str | None = Field(default=None, index=True, max_length=128)
    interaction_id: int | None = Field(default=None, index=True)
    queue: str | None = Field(default=None, max_length=40)
    agent: str | None = Field(default=None, max_length=40, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
