"""HTTP edge of a service: request and correlation ids, per-route latency, access log, /metrics."""

from __future__ import annotations

import re
import time
import uuid

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mandi_observability.context import bound_context
from mandi_observability.logs import get_logger
from mandi_observability.metrics import HTTP_REQUEST_DURATION
from mandi_observability.tracing import instrument_fastapi

__all__ = ["RequestContextMiddleware", "add_metrics_route", "instrument_app"]

# Ids from clients are echoed into logs and headers: only short, plain tokens are taken.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_UNMATCHED = "unmatched"
_access_log = get_logger("mandi.access")


def _acceptable(value: str | None) -> str | None:
    return value if value is not None and _ACCEPTABLE_ID.match(value) else None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else _UNMATCHED


class RequestContextMiddleware:
    """Binds the request's ids for logs and errors, measures it, and writes its access line."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _acceptable(headers.get("x-request-id")) or str(uuid.uuid4())
        correlation_id = _acceptable(headers.get("x-correlation-id")) or request_id
        status = 500  # what the client sees if the app fails before answering
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers["x-request-id"] = request_id
                response_headers["x-correlation-id"] = correlation_id
            await send(message)

        with bound_context(
            request_id=request_id,
            correlation_id=correlation_id,
            tenant_id=_acceptable(headers.get("x-tenant-id")),
            principal_id=_acceptable(headers.get("x-principal-id")),
        ):
            try:
                await self.app(scope, receive, send_with_ids)
            finally:
                self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        method = scope["method"]
        HTTP_REQUEST_DURATION.labels(self.service, method, route, str(status)).observe(seconds)
        _access_log.info(
            "request", method=method, route=route, status=status, duration_ms=round(seconds * 1000, 2)
        )


async def _metrics(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def add_metrics_route(app: FastAPI, path: str = "/metrics") -> None:
    """Serves Prometheus's text format at `path`, outside the OpenAPI schema."""
    app.add_route(path, _metrics, include_in_schema=False)


def instrument_app(app: FastAPI, service: str) -> None:
    """Request ids, latency metrics, access logs, /metrics and a server span per request."""
    app.add_middleware(RequestContextMiddleware, service=service)
    add_metrics_route(app)
    instrument_fastapi(app)
