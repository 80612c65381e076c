import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation._semconv import _OpenTelemetrySemanticConventionStability
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from mandi_observability import (
    RequestContextMiddleware,
    bind_verified_principal,
    current_context,
    get_logger,
    instrument_app,
)

LogReader = Callable[[], list[dict[str, Any]]]
DURATION_COUNT = "mandi_http_request_duration_seconds_count"


def build_app(service: str) -> FastAPI:
    """A small service: a prefixed router, a nested one, a mounted app, and a failing route."""
    app = FastAPI()
    partners = APIRouter(prefix="/partners")

    @partners.get("/{partner_id}")
    async def read_partner(partner_id: str) -> dict[str, Any]:
        get_logger("partners").info("partner read")
        context = current_context()
        return {"id": partner_id, "tenant": context.tenant_id, "principal": context.principal_id}

    @partners.get("/{partner_id}/as/{tenant_id}")
    async def read_as_verified(partner_id: str, tenant_id: str) -> dict[str, Any]:
        bind_verified_principal(tenant_id, "verified-user")  # what a principal resolver does
        context = current_context()
        return {"id": partner_id, "tenant": context.tenant_id, "principal": context.principal_id}

    @partners.post("/{partner_id}/fail")
    async def fail(partner_id: str) -> None:
        raise RuntimeError(f"partner {partner_id} broke")

    items = APIRouter()

    @items.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    nested = APIRouter(prefix="/catalog")
    nested.include_router(items, prefix="/v2")
    app.include_router(partners)
    app.include_router(nested)
    mounted = FastAPI()

    @mounted.get("/reports/{report_id}")
    async def read_report(report_id: str) -> dict[str, str]:
        return {"id": report_id}

    app.mount("/admin", mounted)

    async def probe(request: Request) -> JSONResponse:
        return JSONResponse({"probe": request.path_params["probe"]})

    app.add_route("/health/{probe}", probe, include_in_schema=False)  # a plain Starlette route
    instrument_app(app, service)
    return app


@pytest.fixture
def service() -> str:
    """A service name of this test's own, so metric samples never mix between tests."""
    return f"svc-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(build_app(service), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        yield client


def app_lines(read_logs: LogReader) -> list[dict[str, Any]]:
    """The lines the app wrote, without the test client's own (httpx logs each request)."""
    return [line for line in read_logs() if line["logger"] != "httpx"]


def requests_counted(service: str, route: str, status: str, method: str = "GET") -> float:
    labels = {"service": service, "method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value(DURATION_COUNT, labels) or 0.0


async def test_a_request_without_an_id_gets_a_uuid_echoed_as_both_ids(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/partners/p-1")
    request_id = response.headers["x-request-id"]
    assert uuid.UUID(request_id).version == 4
    assert response.headers["x-correlation-id"] == request_id


async def test_the_ids_a_request_brings_are_kept_and_echoed(client: httpx.AsyncClient) -> None:
    headers = {"X-Request-Id": "req-42", "X-Correlation-Id": "order-flow:7"}
    response = await client.get("/partners/p-1", headers=headers)
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["x-correlation-id"] == "order-flow:7"


@pytest.mark.parametrize(
    "unusable", ["x" * 129, "has space", "<script>", "ünïcode".encode(), "a\tb", ""]
)
async def test_an_unusable_request_id_is_replaced(
    client: httpx.AsyncClient, unusable: str | bytes
) -> None:
    response = await client.get("/partners/p-1", headers={"X-Request-Id": unusable})
    assert response.headers["x-request-id"] != unusable
    assert uuid.UUID(response.headers["x-request-id"])


async def test_tenant_and_principal_headers_are_never_bound_from_the_request(
    client: httpx.AsyncClient, read_logs: LogReader
) -> None:
    headers = {"X-Tenant-Id": "tenant-7", "X-Principal-Id": "user-9", "X-Request-Id": "forged-1"}
    response = await client.get("/partners/p-1", headers=headers)
    assert response.json() == {"id": "p-1", "tenant": None, "principal": None}
    lines = [line for line in app_lines(read_logs) if line["request_id"] == "forged-1"]
    assert [line["event"] for line in lines] == ["partner read", "request"]
    assert not any("tenant_id" in line for line in lines)


async def test_a_verified_principal_is_bound_for_the_rest_of_the_request(
    client: httpx.AsyncClient, read_logs: LogReader
) -> None:
    headers = {"X-Tenant-Id": "forged", "X-Request-Id": "verified-1"}
    response = await client.get("/partners/p-1/as/tenant-7", headers=headers)
    assert response.json() == {"id": "p-1", "tenant": "tenant-7", "principal": "verified-user"}
    [access] = [line for line in app_lines(read_logs) if line["request_id"] == "verified-1"]
    assert (access["event"], access["tenant_id"]) == ("request", "tenant-7")
    assert current_context().tenant_id is None  # nothing leaks past the request


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/partners/p-1", "/partners/{partner_id}"),
        ("/catalog/v2/items/3", "/catalog/v2/items/{item_id}"),
        ("/admin/reports/r-9", "/admin/reports/{report_id}"),
        ("/health/live", "/health/{probe}"),
        ("/admin/nothing-here", "unmatched"),
        ("/no/such/path", "unmatched"),
    ],
)
async def test_latency_is_labelled_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient, service: str, path: str, route: str
) -> None:
    response = await client.get(path)
    assert requests_counted(service, route, str(response.status_code)) == 1
    scrape = (await client.get("/metrics")).text
    assert f'route="{path}"' not in scrape


async def test_an_invented_method_shares_one_label(client: httpx.AsyncClient, service: str) -> None:
    await client.request("BREW", "/partners/p-1")
    assert requests_counted(service, "/partners/{partner_id}", "405", method="_OTHER") == 1


async def test_metrics_are_served_in_prometheus_text_format(client: httpx.AsyncClient) -> None:
    await client.get("/partners/p-1")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE mandi_http_request_duration_seconds histogram" in response.text
    assert "/metrics" not in (await client.get("/openapi.json")).text


async def test_openmetrics_is_served_when_asked_for(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


async def test_one_json_access_line_per_request_without_query_or_headers(
    client: httpx.AsyncClient, read_logs: LogReader
) -> None:
    await client.get("/partners/p-1?email=ravi@example.in", headers={"X-Request-Id": "req-1"})
    handler_line, access_line = app_lines(read_logs)
    assert handler_line["event"] == "partner read"
    assert handler_line["request_id"] == "req-1"
    assert access_line["event"] == "request"
    assert access_line["logger"] == "mandi.access"
    assert {key: access_line[key] for key in ("method", "route", "status", "request_id")} == {
        "method": "GET",
        "route": "/partners/{partner_id}",
        "status": 200,
        "request_id": "req-1",
    }
    assert access_line["duration_ms"] >= 0
    assert "email" not in str(access_line)
    assert "p-1" not in str(access_line)


async def test_a_failing_request_is_answered_500_with_its_ids_and_logged_with_the_error(
    client: httpx.AsyncClient, service: str, read_logs: LogReader
) -> None:
    response = await client.post("/partners/p-1/fail", headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    assert requests_counted(service, "/partners/{partner_id}/fail", "500", method="POST") == 1
    [access_line] = app_lines(read_logs)
    assert (access_line["level"], access_line["status"]) == ("error", 500)
    assert "RuntimeError: partner p-1 broke" in access_line["exception"]


@pytest.mark.usefixtures("read_logs")  # structlog's unconfigured console output is slow
async def test_exception_handlers_run_while_the_requests_ids_are_bound(service: str) -> None:
    app = build_app(service)

    async def problem(_request: Request, _error: Exception) -> JSONResponse:
        return JSONResponse({"correlation_id": current_context().correlation_id}, status_code=500)

    app.add_exception_handler(Exception, problem)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        response = await client.post("/partners/p-1/fail", headers={"X-Correlation-Id": "c-1"})
    assert response.json() == {"correlation_id": "c-1"}
    assert response.headers["x-correlation-id"] == "c-1"


async def test_the_access_line_carries_the_server_spans_trace_id(
    client: httpx.AsyncClient, read_logs: LogReader, spans: InMemorySpanExporter
) -> None:
    await client.get("/partners/p-1")
    handler_line, access_line = app_lines(read_logs)
    [server_span] = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]
    trace_id = format(server_span.context.trace_id, "032x")
    assert handler_line["trace_id"] == access_line["trace_id"] == trace_id
    assert access_line["span_id"] == format(server_span.context.span_id, "016x")


async def test_an_incoming_traceparent_makes_the_server_span_its_child(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    await client.get("/partners/p-1", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    [server_span] = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert format(server_span.context.trace_id, "032x") == trace_id
    assert server_span.parent is not None
    assert format(server_span.parent.span_id, "016x") == parent_id


@pytest.fixture(params=["", "http/dup"], ids=["old conventions", "old and stable conventions"])
def url_conventions(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The semantic conventions the instrumentation records URLs in, read anew for this test."""
    stability = _OpenTelemetrySemanticConventionStability
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", request.param)
    monkeypatch.setattr(stability, "_initialized", False)
    monkeypatch.setattr(stability, "_OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING", {})
    return str(request.param)


async def test_no_span_attribute_holds_the_query_string(
    service: str, spans: InMemorySpanExporter, url_conventions: str
) -> None:
    transport = httpx.ASGITransport(build_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        answer = await client.get("/partners/p-1?tax_id=AAPFU0939F&email=ravi%40example.in")
    assert answer.status_code == 200
    [server_span] = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]
    attributes = dict(server_span.attributes or {})
    recorded = json.dumps([span.to_json() for span in spans.get_finished_spans()])
    for secret in ("AAPFU0939F", "ravi", "tax_id", "email"):
        assert secret not in recorded
    assert attributes["http.url"] == "http://partners.test/partners/p-1"
    assert attributes["http.target"] == "/partners/p-1"
    if url_conventions:  # the stable conventions' own attributes, stripped the same way
        assert (attributes["url.path"], attributes["url.query"]) == ("/partners/p-1", "")


async def test_metrics_scrapes_are_not_traced(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    await client.get("/metrics")
    assert spans.get_finished_spans() == ()


async def test_the_middleware_also_works_added_the_ordinary_way(
    service: str, read_logs: LogReader
) -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str | None]:
        return {"request_id": current_context().request_id}

    app.add_middleware(RequestContextMiddleware, service=service)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        response = await client.get("/ping", headers={"X-Request-Id": "req-ping"})
    assert response.json() == {"request_id": "req-ping"}
    assert response.headers["x-request-id"] == "req-ping"
    assert requests_counted(service, "/ping", "200") == 1
    [access_line] = app_lines(read_logs)
    assert access_line["route"] == "/ping"


async def test_instrumenting_a_started_app_is_refused(service: str) -> None:
    app = FastAPI()
    app.middleware_stack = app.build_middleware_stack()
    with pytest.raises(RuntimeError, match="before the app serves"):
        instrument_app(app, service)


def _server_spans(spans: InMemorySpanExporter) -> list[Any]:
    return [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]


async def test_a_request_has_one_server_span_named_after_its_route(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    await client.get("/partners/p-1")
    [server_span] = _server_spans(spans)  # FastAPI's own telemetry opens none of its own
    attributes = dict(server_span.attributes or {})
    assert server_span.name == "GET /partners/{partner_id}"
    assert (attributes["http.route"], attributes["http.status_code"]) == (
        "/partners/{partner_id}",
        200,
    )


async def test_a_500_and_its_access_line_carry_the_server_spans_trace_id(
    client: httpx.AsyncClient, read_logs: LogReader, spans: InMemorySpanExporter
) -> None:
    response = await client.post("/partners/p-1/fail")
    assert response.status_code == 500
    [server_span] = _server_spans(spans)
    [access_line] = app_lines(read_logs)
    assert access_line["trace_id"] == format(server_span.context.trace_id, "032x")
    assert server_span.status.status_code.name == "ERROR"


async def test_the_server_span_of_a_failure_keeps_its_type_and_withholds_personal_data(
    service: str, spans: InMemorySpanExporter
) -> None:
    app = build_app(service)

    @app.post("/kyc")
    async def kyc() -> None:
        raise ValueError("no partner with PAN ABCDE1234F for ravi@example.in")

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://partners.test") as client:
        assert (await client.post("/kyc")).status_code == 500
    [server_span] = _server_spans(spans)
    recorded = json.dumps(server_span.to_json())
    assert "ABCDE1234F" not in recorded
    assert "ravi@example.in" not in recorded
    [event] = [event for event in server_span.events if event.name == "exception"]
    assert (event.attributes or {})["exception.type"] == "ValueError"
