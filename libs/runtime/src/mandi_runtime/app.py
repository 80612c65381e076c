"""A service's FastAPI app with what every service has: problem+json errors, a body limit,
liveness and readiness probes, request ids, latency metrics, access logs and traces.

Its OpenAPI document is served at /openapi.json (through the gateway at
/api/v1/<service>/openapi.json, to callers holding `<service>:read`) and names
/api/v1/<service> as its server, so a client generated from it calls the gateway's paths.
Swagger UI and ReDoc are not served: they load their scripts from a CDN and, behind the
gateway, would fetch the document from the wrong URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.status import HTTP_405_METHOD_NOT_ALLOWED
from starlette.types import ASGIApp

from mandi_config import ServiceSettings, load_settings
from mandi_db import database_unavailable
from mandi_errors import DependencyUnavailable, NotFound
from mandi_errors.http import BodySizeLimitMiddleware, install_problem_handlers, problem_response
from mandi_observability import get_logger, instrument_app
from mandi_runtime.asyncapi import asyncapi_of
from mandi_runtime.openapi import Amendment, install_contract
from mandi_runtime.service import ServiceDefinition, running
from mandi_runtime.unavailable import Unavailable, UnavailableDependencyMiddleware

__all__ = ["ReadinessCheck", "app_of", "create_service_app"]

S = TypeVar("S", bound=ServiceSettings)
# Raises when something the service needs (its database, Redis…) does not answer.
ReadinessCheck = Callable[[Request], Awaitable[object]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
_log = get_logger("mandi.readiness")


_UNSERVED_DOCUMENTATION = ("/docs", "/docs/oauth2-redirect", "/redoc")


async def _alive(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


def _documentation_not_served(service: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def not_served(_request: Request) -> JSONResponse:
        raise NotFound(
            "Documentation pages are not served: the API is described by its OpenAPI"
            f" document, /api/v1/{service}/openapi.json."
        )

    return not_served


async def _answer_http_error(request: Request, error: Exception) -> Response:
    # Starlette's 405 names the methods of the first route matching the path only; a resource
    # served by several routes (GET and POST of a collection) takes all of theirs.
    if isinstance(error, HTTPException) and error.status_code == HTTP_405_METHOD_NOT_ALLOWED:
        allowed = ", ".join(_methods_of(request))
        error = HTTPException(HTTP_405_METHOD_NOT_ALLOWED, error.detail, {"Allow": allowed})
    return problem_response(error, request.scope["path"])


def _methods_of(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _readiness(checks: Sequence[ReadinessCheck]) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def ready(request: Request) -> JSONResponse:
        for check in checks:
            try:
                await check(request)
            except Exception as error:
                _log.warning("not ready", check=check.__name__, error=repr(error))
                raise DependencyUnavailable(
                    "A dependency of this service does not answer."
                ) from error
        return JSONResponse({"status": "ready"})

    return ready


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    lifespan: Lifespan,
    routers: Sequence[APIRouter],
    readiness: Sequence[ReadinessCheck] = (),
    unavailable: Sequence[Unavailable] = (),
    amendments: Sequence[Amendment] = (),
    max_body_bytes: int = 64 * 1024,
) -> FastAPI:
    """The service's app: its routers behind every part each service shares.

    `unavailable` recognises errors of the service's own dependencies (its database's are
    always recognised): a request they fail is answered 503 with Retry-After, not 500.
    `amendments` complete its OpenAPI document with what only the running service knows.
    """
    app = FastAPI(title=title, version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_contract(app, settings.service_name, amendments)
    install_problem_handlers(app)
    app.add_exception_handler(HTTPException, _answer_http_error)
    # Innermost: it sees a dependency's error before the generic 500 does, and may retry.
    app.user_middleware.append(
        Middleware(
            UnavailableDependencyMiddleware, unavailable=(database_unavailable, *unavailable)
        )
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    # The platform's routes first: a service's `/{id}` route must not answer /readyz (nor /docs).
    app.add_route("/healthz", _alive, include_in_schema=False)
    app.add_route("/readyz", _readiness(readiness), include_in_schema=False)
    for path in _UNSERVED_DOCUMENTATION:
        not_served = _documentation_not_served(settings.service_name)
        app.add_route(path, not_served, include_in_schema=False)
    instrument_app(app, settings.service_name, otlp_endpoint=settings.otlp_endpoint)
    for router in routers:
        app.include_router(router)
    return app


def app_of(
    definition: ServiceDefinition[S, Any], settings: S | None = None, *, background: bool = True
) -> FastAPI:
    """The service's whole app: its routers, the shared parts, and its life as its lifespan."""
    settings = settings or load_settings(definition.settings)
    resolved = settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(definition, resolved, background=background) as service:
            app.state.service = service
            yield

    app = create_service_app(
        settings,
        title=f"Mandi {definition.name}",
        lifespan=lifespan,
        routers=definition.routers,
        readiness=[_service_answers],
        unavailable=definition.unavailable,
        amendments=[partial(_amend, amend, resolved) for amend in definition.amendments],
    )
    # Ahead of the service's routes, as the other platform routes are.
    app.router.routes.insert(
        0, Route("/asyncapi.json", _asyncapi_route(definition), include_in_schema=False)
    )
    for fast_path in definition.fast_paths:
        _answer_first(app, fast_path, settings.service_name)
    return app


def _asyncapi_route(
    definition: ServiceDefinition[Any, Any],
) -> Callable[[Request], Awaitable[JSONResponse]]:
    document: dict[str, Any] = {}

    async def asyncapi(_request: Request) -> JSONResponse:
        if not document:  # made once, on first demand: it needs no I/O
            document.update(asyncapi_of(definition))
        return JSONResponse(document)

    return asyncapi


def _amend(
    amend: Callable[[dict[str, Any], S], None], settings: S, document: dict[str, Any]
) -> None:
    amend(document, settings)


def _answer_first(
    app: FastAPI, fast_path: Callable[[ASGIApp, str], ASGIApp], service_name: str
) -> None:
    build_stack = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        return fast_path(build_stack(), service_name)

    app.build_middleware_stack = build_with_fast_path  # type: ignore[method-assign]


async def _service_answers(request: Request) -> None:
    await request.app.state.service.check_readiness()
