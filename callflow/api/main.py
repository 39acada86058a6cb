"""Gathers the routers into one FastAPI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from callflow import __version__
from callflow.api import ws
from callflow.api.errors import install_error_handlers
from callflow.api.guard import Guard
from callflow.api.routes import (
    agents,
    assist,
    auth,
    directory,
    health,
    interactions,
    prompts,
    queues,
)
from callflow.services import Services


def create_api(services: Services) -> FastAPI:
    docs = services.settings.http.docs
    api = FastAPI(
        title="callflow",
        version=__version__,
        openapi_url=None if docs == "off" else "/openapi.json",
        docs_url="/docs" if docs == "public" else None,
        redoc_url=None,
    )
    api.state.services = services
    api.add_middleware(
        Guard, auth=services.auth, max_body=services.settings.http.max_body, docs=docs
    )
    install_error_handlers(api)
    for module in (health, auth, queues, agents, interactions, directory, assist, prompts, ws):
        api.include_router(module.router)
    # The consoles: static pages that hold no data; everything they show
    # comes from the authenticated API and WebSocket.
    api.mount("/console", StaticFiles(directory=CONSOLE, html=True), name="console")

    @api.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/")

    return api


CONSOLE = Path(__file__).resolve().parent.parent / "web" / "static"
