"""Users (with one role each) and their opaque session tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from callflow.db.models.types import when


class Role(enum.StrEnum):
    AGENT = "agent"
    EXPERT = "expert"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True, index=True)
    display_name: str = Field(default="", max_length=80)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    active: bool = True
    sip_endpoint: str | None = Field(
        default=None, max_length=80, schema_extra={"pattern": r"^PJSIP/[A-Za-z0-9_.+-]+$"}
    )
    presence: str = Field(default="available", max_length=20)  # as chosen by the user
    idle_since: datetime | None = Field(default=None, sa_column=when())


class AuthToken(SQLModel, table=True):
    """Only a hash of the token is stored: a stolen database grants no access."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    expires_at: datetime = Field(sa_column=when(nullable=False))
