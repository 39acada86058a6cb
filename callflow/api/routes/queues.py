"""Queues: configuration (admin) and live figures (supervisors, admins)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from callflow.api.deps import AdminUser, ServicesDep, StaffUser
from callflow.api.errors import domain_errors
from callflow.directory import QueueSpec
from callflow.directory.routing_admin import QueueUpdate

router = APIRouter(prefix="/api/queues", tags=["queues"])


class QueuePublic(QueueSpec):
    members: dict[str, int]


class QueueList(BaseModel):
    data: list[QueuePublic]
    count: int


class WaitingCaller(BaseModel):
    caller: str = Field(description="the caller's name, else number")
    waiting_since: float = Field(description="epoch seconds: entered this queue")
    priority: int
    requirement: str = Field(description="what an agent must meet now ('' : any member)")
    step: int = Field(description="escalation steps taken (0: none yet)")
    also_queues: list[str] = Field(description="other queues whose agents may take the call now")


class QueueFigures(BaseModel):
    """A queue now and today (UTC day; service level and answer speed over today's calls)."""

    queue: str
    waiting: int
    longest_wait: float
    estimated_wait: float = Field(
        0.0, description="seconds a caller joining now would wait (what they are told)"
    )
    callbacks: int = Field(
        0, description="callbacks not made yet: waiting at their place, scheduled, or retrying"
    )
    oldest_waiting_since: float | None  # epoch seconds: a console ticks the longest wait itself
    agents_available: int
    agents_busy: int
    agents_paused: int
    offered_today: int
    answered_today: int
    abandoned_today: int
    timed_out_today: int
    overflowed_today: int
    exited_today: int
    transferred_today: int = Field(0, description="calls an agent transferred, ended today")
    service_level: float | None
    service_level_threshold: int
    average_speed_of_answer: float | None
    waiting_callers: list[WaitingCaller] = Field(
        default_factory=list, description="callers on the line, in the order they are served"
    )


def _public(services: ServicesDep, name: str) -> QueuePublic:
    conf = services.routing.queues.get(name)
    if conf is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no queue {name!r}")
    return QueuePublic(
        name=conf.name,
        strategy=conf.strategy.value,
        ring_timeout=conf.ring_timeout,
        max_wait=conf.max_wait,
        wrapup=conf.wrapup,
        moh_class=conf.moh_class,
        announce_every=conf.announce_every,
        overflow=conf.overflow,
        service_level=conf.service_level,
        exit_key=conf.exit_key,
        exit_target=conf.exit_target,
        join_empty=conf.join_empty,
        recording=conf.recording,
        recording_split=conf.recording_split,
        retention_days=conf.retention_days,
        recording_notice=conf.recording_notice,
        dispositions=dict(conf.disposition.codes),
        disposition_required=conf.disposition.required,
        disposition_default=conf.disposition.default,
        hours=conf.hours.spec,
        closed_target=conf.closed_target,
        callback=conf.callback.spec,
        requirement=str(conf.requirement),
        escalation=conf.escalation.dump() or None,
        skill_preference="best" if conf.best_match else "any",
        members=dict(conf.members),
    )


@router.get("")
async def list_queues(user: StaffUser, services: ServicesDep) -> QueueList:
    data = [_public(services, name) for name in services.routing.queues]
    return QueueList(data=data, count=len(data))


@router.get("/figures")
async def all_figures(user: StaffUser, services: ServicesDep) -> list[QueueFigures]:
    return [await _figures(services, name) for name in services.routing.queues]


@router.get("/{name}")
async def get_queue(name: str, user: StaffUser, services: ServicesDep) -> QueuePublic:
    return _public(services, name)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_queue(spec: QueueSpec, user: AdminUser, services: ServicesDep) -> QueuePublic:
    with domain_errors():
        await services.routing_admin.put_queue(spec, create=True)
    return _public(services, spec.name)


@router.patch("/{name}")
async def update_queue(
    name: str, update: QueueUpdate, user: AdminUser, services: ServicesDep
) -> QueuePublic:
    with domain_errors():
        await services.routing_admin.update_queue(name, update)
    return _public(services, name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_queue(name: str, user: AdminUser, services: ServicesDep) -> Response:
    with domain_errors():
        await services.routing_admin.delete_queue(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/figures")
async def queue_figures(name: str, user: StaffUser, services: ServicesDep) -> QueueFigures:
    return await _figures(services, name)


async def _figures(services: ServicesDep, name: str) -> QueueFigures:
    if name not in services.routing.queues:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no queue {name!r}")
    return QueueFigures(**services.figures.queue(name))
