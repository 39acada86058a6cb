"""Queued callbacks: the list (supervisors, admins), and cancel or
reschedule one with a reason — by a supervisor or admin, or by the agent
the callback is offered to or calling (the preview's buttons)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AfterValidator, BaseModel, Field

from callflow.api.deps import CurrentUser, Id, ServicesDep, StaffUser, _utc, is_staff
from callflow.db.models import Callback, User
from callflow.routing.callback_policy import CallbackState
from callflow.routing.callbacks import CallbackError, Callbacks

router = APIRouter(prefix="/api/callbacks", tags=["callbacks"])

Reason = Annotated[str, Field(min_length=1, max_length=160, description="why (kept on record)")]


class CallbackOut(BaseModel):
    id: int
    queue: str
    number: str
    name: str
    state: str = Field(description="scheduled, waiting, offered, dialing, connected, "
                       "retry_wait, done, failed, cancelled")  # fmt: skip
    attempts: int
    requested_at: datetime
    due_at: datetime | None = Field(description="scheduled / retry_wait: when it waits again")
    asked_in: int = Field(description="the interaction of the call that asked for it")
    interaction_id: int | None = Field(description="the callback call's interaction")
    agent: str | None
    reason: str
    ended_at: datetime | None


class CallbackList(BaseModel):
    data: list[CallbackOut]
    count: int


class CancelIn(BaseModel):
    reason: Reason


class RescheduleIn(BaseModel):
    at: Annotated[datetime, AfterValidator(_utc)] = Field(
        description="when it waits again, ISO 8601 (UTC without a zone); at its old place"
    )
    reason: Reason


def _out(row: Callback) -> CallbackOut:
    return CallbackOut.model_validate(row, from_attributes=True)


def _service(services: ServicesDep) -> Callbacks:
    callbacks = services.routing.callbacks
    if callbacks is None or not callbacks.enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "callbacks are off (callback.context)")
    return callbacks


def _may_change(user: User, callbacks: Callbacks, callback_id: int) -> None:
    """Staff, or the agent the callback rings or calls now."""
    if is_staff(user):
        return
    run = callbacks.runs.get(callback_id)
    call = callbacks.board.calls.get(run.channel) if run is not None else None
    mine = call is not None and (
        call.agent == user.username or any(o.agent == user.username for o in call.offers.values())
    )
    if not mine:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "an agent may change only the callback on their phone"
        )


@router.get("")
async def list_callbacks(
    user: StaffUser,
    services: ServicesDep,
    state: Annotated[CallbackState | None, Query(description="only in this state")] = None,
    queue: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> CallbackList:
    """The latest callbacks, newest first."""
    rows = await _service(services).store.find(
        state=state.value if state else None, queue=queue, limit=limit
    )
    return CallbackList(data=[_out(r) for r in rows], count=len(rows))


async def _row(callbacks: Callbacks, callback_id: int) -> CallbackOut:
    row = await callbacks.store.get(callback_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no callback {callback_id}")
    return _out(row)


@router.post("/{callback_id}/cancel")
async def cancel_callback(
    callback_id: Id, body: CancelIn, user: CurrentUser, services: ServicesDep
) -> CallbackOut:
    """Nobody will call the customer: the callback ends as cancelled (a
    call ringing for it stops)."""
    callbacks = _service(services)
    _may_change(user, callbacks, callback_id)
    try:
        await callbacks.cancel(callback_id, body.reason, user.username)
    except CallbackError as error:
        raise HTTPException(error.status, str(error)) from None
    return await _row(callbacks, callback_id)


@router.post("/{callback_id}/reschedule")
async def reschedule_callback(
    callback_id: Id, body: RescheduleIn, user: CurrentUser, services: ServicesDep
) -> CallbackOut:
    """The callback waits again from ``at``, at its old place (a call
    ringing for it stops)."""
    callbacks = _service(services)
    _may_change(user, callbacks, callback_id)
    try:
        await callbacks.reschedule(callback_id, body.at, body.reason, user.username)
    except CallbackError as error:
        raise HTTPException(error.status, str(error)) from None
    return await _row(callbacks, callback_id)
