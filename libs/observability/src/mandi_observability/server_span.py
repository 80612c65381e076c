"""The server span of an HTTP request, opened and ended by the request middleware (`http.py`).

One span per request with the attributes OpenTelemetry's ASGI instrumentation records, read
from the ASGI scope in one pass. The URL keeps its path, never its query string: a query may
carry tax ids or emails (with the stable conventions `url.query` is recorded empty when there
was one). An exception is recorded by type, with its traceback redacted as a log line's is.
Probes and metrics scrapes are not traced.

The attribute names follow OTEL_SEMCONV_STABILITY_OPT_IN as the instrumentations do: the old
conventions by default, the stable ones for `http`, both for `http/dup`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode
from starlette.types import Scope

from mandi_observability.exceptions import format_exception_safely
from mandi_observability.redaction import redact_text

__all__ = ["PROPAGATION_HEADERS", "OpenServerSpan", "ServerSpans"]

# Headers that carry the caller's trace context (W3C trace context and baggage).
PROPAGATION_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})
_UNTRACED_PATHS = ("/metrics", "/healthz", "/readyz")
_OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
_SERVER_ERROR = 500
_WITHHELD = "[withheld: see exception.stacktrace]"


class OpenServerSpan:
    """A request's server span, current until it is ended."""

    def __init__(self, span: Span, *, old: bool, stable: bool) -> None:
        self.span = span
        self._old, self._stable = old, stable
        self._token = otel_context.attach(trace.set_span_in_context(span))

    @property
    def trace_ids(self) -> dict[str, str]:
        """Its trace and span ids as logs carry them (none when it is not a valid span)."""
        context = self.span.get_span_context()
        if not context.is_valid:
            return {}
        return {
            "trace_id": format(context.trace_id, "032x"),
            "span_id": format(context.span_id, "016x"),
        }

    def end(self, method: str, route: str | None, status: int, error: Exception | None) -> None:
        """Names the span after the route, records the answer (or the error), and ends it."""
        span = self.span
        attributes: dict[str, Any] = {}
        if route is not None:
            span.update_name(f"{_span_method(method)} {route}")
            attributes["http.route"] = route
        if self._old:
            attributes["http.status_code"] = status
        if self._stable:
            attributes["http.response.status_code"] = status
        if error is not None:
            span.record_exception(error, attributes=_safe_exception(error))
        if error is not None or status >= _SERVER_ERROR:
            span.set_status(StatusCode.ERROR)
            if self._stable:
                attributes["error.type"] = type(error).__qualname__ if error else str(status)
        span.set_attributes(attributes)
        self.abandon()

    def abandon(self) -> None:
        """Ends the span as it is (a cancelled request has no answer to record)."""
        self.span.end()
        otel_context.detach(self._token)


class ServerSpans:
    """Opens each request's server span, in the conventions the environment asks for."""

    def __init__(self) -> None:
        self._tracer = trace.get_tracer("mandi_observability.http")
        modes = {mode.strip() for mode in os.environ.get(_OPT_IN, "").split(",")}
        self._stable = bool(modes & {"http", "http/dup"})
        self._old = "http/dup" in modes or not self._stable

    def open(self, scope: Scope, method: str, headers: Mapping[str, str]) -> OpenServerSpan | None:
        """The request's span, current, a child of the caller's when its headers carry one;
        None for a probe or a metrics scrape."""
        if scope["path"].endswith(_UNTRACED_PATHS):
            return None
        carrier = {name: headers[name] for name in PROPAGATION_HEADERS if name in headers}
        span = self._tracer.start_span(
            _span_method(method),
            context=propagate.extract(carrier) if carrier else Context(),
            kind=SpanKind.SERVER,
            attributes=self._request_attributes(scope, method, headers),
        )
        return OpenServerSpan(span, old=self._old, stable=self._stable)

    def _request_attributes(
        self, scope: Scope, method: str, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        scheme = scope.get("scheme", "http")
        host, port = scope.get("server") or ("0.0.0.0", 80)  # noqa: S104 - ASGI's default
        client = scope.get("client")
        attributes: dict[str, Any] = {}
        if self._old:
            server = host if port in {80, None} else f"{host}:{port}"
            attributes |= {
                "http.method": method,
                "http.scheme": scheme,
                "http.host": server,
                "http.flavor": scope.get("http_version", "1.1"),
                "http.target": scope["path"],
                "http.url": f"{scheme}://{headers.get('host') or server}{scope['path']}",
            }
            _put(attributes, "net.host.port", port)
            _put(attributes, "http.server_name", headers.get("host"))
            _put(attributes, "http.user_agent", headers.get("user-agent"))
            if client:
                attributes |= {"net.peer.ip": client[0], "net.peer.port": client[1]}
        if self._stable:
            attributes |= {
                "http.request.method": method,
                "url.scheme": scheme,
                "url.path": scope["path"],
                "network.protocol.version": scope.get("http_version", "1.1"),
            }
            _put(attributes, "server.port", port)
            if scope.get("query_string"):
                attributes["url.query"] = ""
            _put(attributes, "user_agent.original", headers.get("user-agent"))
            if client:
                attributes |= {"client.address": client[0], "client.port": client[1]}
        return attributes


def _span_method(method: str) -> str:
    # OpenTelemetry's convention: an unknown method names the span "HTTP".
    return "HTTP" if method == "_OTHER" else method


def _put(attributes: dict[str, Any], name: str, value: str | int | None) -> None:
    if value:
        attributes[name] = value


def _safe_exception(error: Exception) -> dict[str, str]:
    # What the SDK would record from str(error) and the raw traceback may hold personal data.
    return {
        "exception.message": _WITHHELD,
        "exception.stacktrace": redact_text(format_exception_safely(error)),
    }
