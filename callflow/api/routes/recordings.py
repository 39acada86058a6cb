"""Call recordings: start, stop, pause and resume a call's recording; list a
call's recordings; play or download one; the audit log of who did.

Supervisors and admins reach every recording; an agent reaches the
recordings of calls they answered only when the site allows it
(``recording.agents_play_own``). A recording is addressed by a random
token, never by its id or file name; the audio needs the bearer token like
every other route (the console fetches it and plays the bytes), and every
play and download is written to the audit log. Downloads are rate-limited
per user.
"""

from __future__ import annotations

import enum
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, Field
from sqlmodel import col, select

from callflow.api.deps import CurrentUser, Id, ServicesDep, Since, StaffUser, is_staff
from callflow.api.errors import domain_errors
from callflow.api.routes.agents import self_or_staff
from callflow.api.routes.interactions import took
from callflow.db.models import Recording, RecordingAccess, User
from callflow.recording.files import matches
from callflow.routing.store import at

router = APIRouter(tags=["recordings"])

PLAYS_PER_MINUTE = 60
_limiter = MovingWindowRateLimiter(MemoryStorage())
_per_user = RateLimitItemPerMinute(PLAYS_PER_MINUTE)


class RecordingAction(enum.StrEnum):
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"


class RecordingState(BaseModel):
    interaction: int
    state: str = Field(description="recording, paused, off (stopped, or never started)")


class RecordingOut(BaseModel):
    token: str = Field(description="the recording's address in the audio URL")
    interaction_id: int
    segment: int
    kind: str = Field(description="mixed (the conversation), customer or agent (one voice)")
    queue: str
    agent: str | None
    state: str = Field(description="recording, paused, done, failed, missing")
    started_at: datetime
    ended_at: datetime | None
    duration: float | None
    size: int | None
    sha256: str | None
    pauses: list[dict[str, Any]] = Field(description="the gaps not recorded: at, until")
    problem: str | None


class AccessOut(BaseModel):
    recording: str = Field(description="the recording's token")
    interaction_id: int
    username: str
    action: str
    at: datetime


@router.post("/api/agents/{name}/recording/{action}")
async def recording_action(
    name: str, action: RecordingAction, user: CurrentUser, services: ServicesDep
) -> RecordingState:
    """Start or stop the recording of the agent's call (on-demand queues), or
    pause and resume it (card numbers: nothing is written while paused)."""
    self_or_staff(user, name)
    recordings = services.recordings
    with domain_errors():
        if action is RecordingAction.START:
            state = await recordings.start(name)
        elif action is RecordingAction.STOP:
            state = await recordings.stop(name)
        else:
            state = await recordings.pause(name, action is RecordingAction.PAUSE)
    call = services.routing.conversation_of_agent(name)
    return RecordingState(interaction=call.interaction_id if call else 0, state=state)


async def _may_play(services: ServicesDep, user: User, row: Recording) -> None:
    if is_staff(user):
        return
    if not services.settings.recording.agents_play_own:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "agents may not play recordings here")
    if not (row.agent == user.username or await took(services, row.interaction_id, user.username)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such recording")


@router.get("/api/interactions/{interaction_id}/recordings")
async def call_recordings(
    interaction_id: Id, user: CurrentUser, services: ServicesDep
) -> list[RecordingOut]:
    """The call's recordings, segment by segment (files not purged)."""
    rows = await services.recordings.store.of_interaction(interaction_id)
    shown = []
    for row in rows:
        if row.purged_at is not None:
            continue
        await _may_play(services, user, row)
        shown.append(RecordingOut(**row.model_dump(exclude={"id", "name", "purged_at"})))
    return shown


@router.get("/api/recordings/access-log")
async def access_log(
    user: StaffUser, services: ServicesDep, since: Since = None,
    limit: int = Query(200, ge=1, le=1000),
) -> list[AccessOut]:  # fmt: skip
    """Who played or downloaded which recording, newest first."""
    query = (
        select(RecordingAccess, Recording)
        .join(Recording, col(Recording.id) == col(RecordingAccess.recording_id))
        .order_by(col(RecordingAccess.id).desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(col(RecordingAccess.at) >= since)
    async with services.db.session() as session:
        found = (await session.exec(query)).all()
    return [
        AccessOut(
            recording=r.token,
            interaction_id=r.interaction_id,
            username=a.username,
            action=a.action,
            at=a.at,
        )
        for a, r in found
    ]


Download = Annotated[bool, Query(description="as a file to save (else: to play)")]


@router.get(
    "/api/recordings/{token}/audio",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "the WAV file"}},
)
async def recording_audio(
    token: Annotated[str, PathParam(max_length=40, pattern=r"^[A-Za-z0-9_-]{16,40}$")],
    user: CurrentUser, services: ServicesDep, download: Download = False,
) -> FileResponse:  # fmt: skip
    """The recording's audio (WAV); every request is in the audit log."""
    row = await services.recordings.store.by_token(token)
    if row is None or row.id is None or row.purged_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such recording")
    await _may_play(services, user, row)
    if not await _limiter.hit(_per_user, f"user:{user.id}"):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"at most {PLAYS_PER_MINUTE} recordings a minute",
            headers={"Retry-After": "60"},
        )
    folder = services.settings.recording.dir
    if row.state != "done" or folder is None or row.sha256 is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the recording is {row.state}")
    path = Path(folder) / f"{row.name}.wav"
    if not matches(path, row.sha256):
        raise HTTPException(
            status.HTTP_410_GONE, "the recording's file is missing or was changed since it was made"
        )
    action = "download" if download else "play"
    await services.recordings.store.accessed(row.id, user.username, action, at(time.time()))
    name = f"call-{row.interaction_id}-{row.segment}-{row.kind}.wav"
    return FileResponse(
        path, media_type="audio/wav", filename=name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )  # fmt: skip
