"""Reload the directory file (admins)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from callflow.api.deps import AdminUser, ServicesDep
from callflow.directory import DirectoryError

router = APIRouter(prefix="/api/directory", tags=["directory"])


class Reloaded(BaseModel):
    queues: int
    agents: int


@router.post("/reload")
async def reload(user: AdminUser, services: ServicesDep) -> Reloaded:
    if services.settings.directory_file is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "no directory file configured (CALLFLOW_DIRECTORY_FILE)"
        )
    try:
        directory = await services.directory.reload()
    except DirectoryError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    assert directory is not None
    await services.routing.distribute()  # new skills or members may match waiting callers
    return Reloaded(queues=len(directory.queues), agents=len(directory.agents))
