"""The auth service's ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp

from mandi_auth.bootstrap import AuthService, running_service
from mandi_auth.config import Settings
from mandi_auth.entrypoints.http.authorize import AuthorizeFastPath
from mandi_auth.entrypoints.http.routes import router
from mandi_config import load_settings
from mandi_errors.http import BodySizeLimitMiddleware, install_problem_handlers
from mandi_observability import instrument_app

__all__ = ["create_app"]

_MAX_BODY_BYTES = 64 * 1024


async def _alive(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


async def _ready(request: Request) -> JSONResponse:
    service: AuthService = request.app.state.service
    async with service.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    await service.redis.ping()
    return JSONResponse({"status": "ready"})


def create_app(settings: Settings | None = None, *, background: bool = True) -> FastAPI:
    """The application; settings come from the environment unless given."""
    settings = settings or load_settings(Settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_service(settings, background=background) as service:
            app.state.service = service
            yield

    app = FastAPI(title="Mandi auth", version="1", lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=_MAX_BODY_BYTES)
    app.include_router(router)
    app.add_route("/healthz", _alive, include_in_schema=False)
    app.add_route("/readyz", _ready, include_in_schema=False)
    instrument_app(app, settings.service_name, otlp_endpoint=settings.otlp_endpoint)
    _answer_authorize_first(app, settings.service_name)
    return app


def _answer_authorize_first(app: FastAPI, service_name: str) -> None:
    # Outside every middleware: the gateway asks before each request (see AuthorizeFastPath).
    build_stack = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        return AuthorizeFastPath(build_stack(), service_name)

    app.build_middleware_stack = build_with_fast_path  # type: ignore[method-assign]
