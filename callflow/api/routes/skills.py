"""Skills: the vocabulary agents' levels and calls' requirements are written in."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from callflow.api.deps import AdminUser, ServicesDep, StaffUser
from callflow.api.errors import domain_errors
from callflow.routing.skills import SKILL_PATTERN

router = APIRouter(prefix="/api/skills", tags=["skills"])


class SkillPublic(BaseModel):
    name: str
    description: str
    agents: dict[str, int] = Field(description="agent -> level, for the agents who have it")


class SkillIn(BaseModel):
    description: str = Field(default="", max_length=200)


@router.get("")
async def list_skills(user: StaffUser, services: ServicesDep) -> list[SkillPublic]:
    routing = services.routing
    return [
        SkillPublic(
            name=name,
            description=description,
            agents={a.name: a.skills[name] for a in routing.agents.values() if name in a.skills},
        )
        for name, description in sorted(routing.board.skills.items())
    ]


@router.put("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def put_skill(name: str, body: SkillIn, user: AdminUser, services: ServicesDep) -> Response:
    """Declare a skill (or change its description)."""
    if not re.match(SKILL_PATTERN, name):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name!r} is not a skill name (a-z, 0-9, _ -)"
        )
    with domain_errors():
        await services.routing_admin.put_skill(name, body.description)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_skill(name: str, user: AdminUser, services: ServicesDep) -> Response:
    """Refused while an agent has the skill or a queue requires it."""
    with domain_errors():
        await services.routing_admin.delete_skill(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
