"""Expert groups, assist requests and their offers, IM sessions and messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from callflow.db.models.routing import NAME_PATTERN
from callflow.db.models.types import when as _when


class ExpertGroupBase(SQLModel):
    name: str = Field(
        max_length=40, schema_extra={"pattern": NAME_PATTERN}, unique=True, index=True
    )
    description: str = Field(default="", max_length=200)
    digit: str | None = Field(default=None, max_length=1, schema_extra={"pattern": r"^[0-9]$"})
    offer_policy: str = Field(
        default="broadcast", schema_extra={"pattern": r"^(broadcast|sequential)$"}
    )
    offer_timeout: int = Field(default=20, ge=3, le=600)
    fallback: str | None = Field(
        default=None, max_length=40, schema_extra={"pattern": NAME_PATTERN}
    )
    max_sessions: int = Field(default=2, ge=1, le=20)
    # the phone menu asks for a mode unless the group fixes it
    mode: str | None = Field(
        default=None, max_length=8, schema_extra={"pattern": r"^(im|whisper)$"}
    )


class ExpertGroup(ExpertGroupBase, table=True):
    __tablename__ = "expert_group"

    id: int | None = Field(default=None, primary_key=True)


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="expert_group.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    level: int = Field(default=1, ge=1, le=9)


class AssistRequest(SQLModel, table=True):
    __tablename__ = "assist_request"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="user.id", index=True)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    group_name: str = Field(max_length=40, index=True)  # current group (after escalation)
    requested_group: str = Field(max_length=40)
    mode: str = Field(default="im", schema_extra={"pattern": r"^(im|whisper)$"})
    state: str = Field(default="pending", max_length=20, index=True)
    keep_open: bool = False
    first_message: str = Field(default="", sa_column=Column(Text, nullable=False))
    expert_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(sa_column=_when(index=True, nullable=False))
    offered_at: datetime | None = Field(default=None, sa_column=_when())
    accepted_at: datetime | None = Field(default=None, sa_column=_when())
    ended_at: datetime | None = Field(default=None, sa_column=_when())
    closed_at: datetime | None = Field(default=None, sa_column=_when())
    outcome_reason: str = Field(default="", max_length=200)


class AssistOffer(SQLModel, table=True):
    __tablename__ = "assist_offer"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="assist_request.id", ondelete="CASCADE", index=True)
    expert_id: int = Field(foreign_key="user.id", index=True)
    group_name: str = Field(max_length=40)
    offered_at: datetime = Field(sa_column=_when(nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=_when())
    outcome: str = Field(default="pending", max_length=20)  # accepted, declined, ...
    reason: str = Field(default="", max_length=40)


class ImSession(SQLModel, table=True):
    __tablename__ = "im_session"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="assist_request.id", unique=True)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    opened_at: datetime = Field(sa_column=_when(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_when())


class SessionMember(SQLModel, table=True):
    __tablename__ = "session_member"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="im_session.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role: str = Field(max_length=20)  # agent, expert


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="im_session.id", ondelete="CASCADE", index=True)
    sender_id: int | None = Field(default=None, foreign_key="user.id")  # None: callflow
    kind: str = Field(default="text", max_length=20)  # text, system
    via: str = Field(default="web", max_length=10)  # web, sip
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_when(nullable=False))


class PresenceChange(SQLModel, table=True):
    __tablename__ = "presence_change"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    presence: str = Field(max_length=20)
    chosen: str = Field(max_length=20)
    source: str = Field(max_length=20)  # web, sip, derived
    at: datetime = Field(sa_column=_when(index=True, nullable=False))
