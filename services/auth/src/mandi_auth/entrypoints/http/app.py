"""The auth service's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.requests import Request
from starlette.types import ASGIApp

from mandi_auth.adapters.gatekeeper import redis_unavailable
from mandi_auth.bootstrap import AuthService, running_service
from mandi_auth.config import Settings
from mandi_auth.entrypoints.http.authorize import AuthorizeFastPath
from mandi_auth.entrypoints.http.routes import router
from mandi_config import load_settings
from mandi_runtime import create_service_app
from mandi_runtime.openapi import Amendment

__all__ = ["create_app"]


async def _database_answers(request: Request) -> None:
    service: AuthService = request.app.state.service
    async with service.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis_answers(request: Request) -> None:
    service: AuthService = request.app.state.service
    await service.redis.ping()


def create_app(settings: Settings | None = None, *, background: bool = True) -> FastAPI:
    """The application; settings come from the environment unless given."""
    settings = settings or load_settings(Settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_service(settings, background=background) as service:
            app.state.service = service
            yield

    app = create_service_app(
        settings,
        title="Mandi auth",
        lifespan=lifespan,
        routers=[router],
        readiness=[_database_answers, _redis_answers],
        unavailable=[redis_unavailable],
        amendments=[_plans_of(settings)],
    )
    _answer_authorize_first(app, settings.service_name)
    return app


def _plans_of(settings: Settings) -> Amendment:
    """Lists the deployment's plans as the values a key's `plan` may take."""

    def amend(document: dict[str, Any]) -> None:
        plan = document["components"]["schemas"]["IssueApiKeyIn"]["properties"]["plan"]
        plan["enum"] = sorted(settings.plans)

    return amend


def _answer_authorize_first(app: FastAPI, service_name: str) -> None:
    # Outside every middleware: the gateway asks before each request (see AuthorizeFastPath).
    build_stack = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        return AuthorizeFastPath(build_stack(), service_name)

    app.build_middleware_stack = build_with_fast_path  # type: ignore[method-assign]
