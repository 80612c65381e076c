"""The partners service's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.requests import Request

from mandi_config import load_settings
from mandi_partners.bootstrap import PartnersService, running_service
from mandi_partners.config import Settings
from mandi_partners.entrypoints.http.deps import require_if_match
from mandi_partners.entrypoints.http.routes import router
from mandi_runtime import create_service_app

__all__ = ["create_app"]


async def _database_answers(request: Request) -> None:
    service: PartnersService = request.app.state.service
    async with service.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def create_app(settings: Settings | None = None, *, background: bool = True) -> FastAPI:
    """The application; settings come from the environment unless given."""
    settings = settings or load_settings(Settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_service(settings, background=background) as service:
            app.state.service = service
            yield

    # The verifier is not a readiness check: while it is down, applications are parked.
    return create_service_app(
        settings,
        title="Mandi partners",
        lifespan=lifespan,
        routers=[router],
        readiness=[_database_answers],
        amendments=[require_if_match],
    )
