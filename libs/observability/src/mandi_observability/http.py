"""HTTP edge of a service: one layer per request for its server span, request and correlation
ids, per-route latency and access line; and /metrics.

One pure ASGI middleware does all of it, outermost: the span is current while the app and its
error handlers answer (so problems carry its trace id), and the access line is written once it
has ended. FastAPI's own telemetry is switched off, so a request has one server span.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mandi_observability.context import bound_context
from mandi_observability.logs import get_logger
from mandi_observability.metrics import HTTP_REQUEST_DURATION
from mandi_observability.server_span import PROPAGATION_HEADERS, OpenServerSpan, ServerSpans
from mandi_observability.tracing import configure_tracing

__all__ = [
    "RequestContextMiddleware",
    "add_metrics_route",
    "instrument_app",
    "metrics_endpoint",
]

# Ids from clients are echoed into logs and headers: only short, plain tokens are taken.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_UNMATCHED = "unmatched"
_SERVER_ERROR = 500
# Any other method a client invents shares one label, so the series stay bounded.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The request headers this layer reads, found in one pass over the raw list.
_READ_HEADERS = frozenset(
    name.encode()
    for name in ("x-request-id", "x-correlation-id", "host", "user-agent", *PROPAGATION_HEADERS)
)
_access_log = get_logger("mandi.access")


class RequestContextMiddleware:
    """Opens the request's server span, binds its ids for logs and errors, measures it, and
    writes its access line."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._spans = ServerSpans()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange.begin(scope)
        with bound_context(**exchange.ids):
            span = self._spans.open(scope, exchange.method, exchange.headers)
            try:
                await self.app(scope, receive, exchange.sender(send))
            except Exception as error:
                self._finish(scope, exchange, span, error)
                raise
            except BaseException:  # cancelled: there is no answer to record
                if span is not None:
                    span.abandon()
                raise
            self._finish(scope, exchange, span, None)

    def _finish(
        self,
        scope: Scope,
        exchange: _Exchange,
        span: OpenServerSpan | None,
        error: Exception | None,
    ) -> None:
        route = _route_template(scope, exchange.root_path)
        if span is not None:
            matched = None if route == _UNMATCHED else route
            span.end(exchange.method, matched, exchange.status, error)
        seconds = time.perf_counter() - exchange.started
        labels = (self.service, exchange.method, route, str(exchange.status))
        HTTP_REQUEST_DURATION.labels(*labels).observe(seconds)
        _log_access(exchange, route, seconds, span, error)


def _log_access(
    exchange: _Exchange,
    route: str,
    seconds: float,
    span: OpenServerSpan | None,
    error: Exception | None,
) -> None:
    server_error = error is not None or exchange.status >= _SERVER_ERROR
    write = _access_log.error if server_error else _access_log.info
    write(
        "request",
        method=exchange.method,
        route=route,
        status=exchange.status,
        duration_ms=round(seconds * 1000, 2),
        exc_info=error or False,
        **(span.trace_ids if span is not None else {}),  # ended by now; its ids still name it
    )


@dataclass
class _Exchange:
    """What the middleware knows about one request, learnt as it is answered."""

    request_id: str
    correlation_id: str
    root_path: str
    method: str
    headers: Mapping[str, str]
    started: float = field(default_factory=time.perf_counter)
    status: int = _SERVER_ERROR  # what the client sees if the app fails before answering

    @classmethod
    def begin(cls, scope: Scope) -> _Exchange:
        """Reads the ids a request brings, making a request id when it has no usable one."""
        headers = _read_headers(scope)
        request_id = _acceptable(headers.get("x-request-id")) or str(uuid.uuid4())
        method = scope["method"]
        return cls(
            request_id=request_id,
            correlation_id=_acceptable(headers.get("x-correlation-id")) or request_id,
            root_path=str(scope.get("root_path", "")),
            method=method if method in _KNOWN_METHODS else "_OTHER",
            headers=headers,
        )

    @property
    def ids(self) -> dict[str, str | None]:
        """The ids to bind while the request is handled.

        Tenant and principal start empty, whatever headers the request carries: they are
        authorization facts, bound only once the service has verified the principal
        (`bind_verified_principal`).
        """
        return {
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "tenant_id": None,
            "principal_id": None,
        }

    def sender(self, send: Send) -> Send:
        """`send`, noting the status and echoing the ids on the response."""

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._answering(message)
            await send(message)

        return send_with_ids

    def _answering(self, message: Message) -> None:
        self.status = message["status"]
        headers = MutableHeaders(scope=message)
        headers["x-request-id"] = self.request_id
        headers["x-correlation-id"] = self.correlation_id


def _read_headers(scope: Scope) -> dict[str, str]:
    """The headers this layer reads, by lower-case name; the first of repeated ones, as
    Starlette's `Headers.get` answers."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _READ_HEADERS:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def _acceptable(value: str | None) -> str | None:
    return value if value is not None and _ACCEPTABLE_ID.fullmatch(value) else None


def _route_template(scope: Scope, root_path: str) -> str:
    """The matched route's path template with any mount prefix; never the raw path."""
    route = scope.get("route") or _route_of_endpoint(scope)
    if route is None:
        return _UNMATCHED
    mount_prefix = str(scope.get("root_path", "")).removeprefix(root_path)
    if isinstance(route, Mount):  # a mounted app that matched nothing inside, or static files
        return mount_prefix + "/{path}"
    return mount_prefix + _path_format(scope, route)


def _route_of_endpoint(scope: Scope) -> object | None:
    # FastAPI records the matched route in the scope for its own routes only; a plain Starlette
    # route (add_route) leaves just its endpoint, so the route is found by that.
    endpoint = scope.get("endpoint")
    routes = getattr(scope.get("app"), "routes", ())
    return next((route for route in routes if getattr(route, "endpoint", None) is endpoint), None)


def _path_format(scope: Scope, route: object) -> str:
    # FastAPI keeps a nested router's routes unprefixed and records the full path beside them.
    fastapi_scope = scope.get("fastapi")
    effective = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    template = effective if getattr(effective, "original_route", None) is route else route
    return str(getattr(template, "path_format", "") or _UNMATCHED)


def metrics_endpoint(registry: CollectorRegistry = REGISTRY) -> Callable[[Request], Response]:
    """A Starlette endpoint serving the registry in Prometheus's text format (or OpenMetrics)."""

    def serve_metrics(request: Request) -> Response:
        # Synchronous on purpose: Starlette runs it in a thread, off the event loop.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    return serve_metrics


def add_metrics_route(app: Starlette, path: str = "/metrics") -> None:
    """Serves Prometheus's text format at `path`, outside the OpenAPI schema."""
    app.add_route(path, metrics_endpoint(), include_in_schema=False)


def instrument_app(app: FastAPI, service: str, *, otlp_endpoint: str | None = None) -> None:
    """Request ids, latency metrics, access logs, /metrics and a server span per request.

    Call it before the app serves; logging is configured apart, with configure_logging.
    """
    configure_tracing(service, otlp_endpoint=otlp_endpoint)
    add_metrics_route(app)
    _without_fastapi_telemetry(app)
    _wrap_outermost(app, service)


def _without_fastapi_telemetry(app: FastAPI) -> None:
    # FastAPI would open a second server span, and spans of its own around dependencies and
    # serialization; it takes the switch only as a constructor argument (`telemetry=`), so the
    # settings it keeps from that argument are changed.
    settings = getattr(app, "_telemetry", None)
    if isinstance(settings, dict):
        settings.update(tracing=False, metrics=False, logs=False)


def _wrap_outermost(app: FastAPI, service: str) -> None:
    # Outside Starlette's error middleware, a 500 it answers still carries the ids, and the
    # app's exception handlers run while the request's ids are bound, to put them in problems.
    if app.middleware_stack is not None:
        raise RuntimeError("instrument_app must run before the app serves its first request")
    build_stack = app.build_middleware_stack

    def build_with_context() -> ASGIApp:
        return RequestContextMiddleware(build_stack(), service)

    app.build_middleware_stack = build_with_context  # type: ignore[method-assign]
