import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Query
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from mandi_errors import Conflict, NotFound, RateLimited
from mandi_errors.http import PROBLEM_JSON, ProblemDetail, install_problem_handlers
from mandi_observability.http import RequestContextMiddleware
from mandi_testing.http import asgi_client

LEAKED_SECRET = "hunter2-Qx81"


class Credentials(BaseModel):
    username: str
    password: str = Field(min_length=32)


def build_app() -> FastAPI:
    """Routes that fail in each way a Mandi API can."""
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="errors-tests")

    @app.get("/things/{thing_id}", responses={404: {"model": ProblemDetail}})
    async def read_thing(thing_id: int) -> dict[str, int]:
        raise NotFound(f"Thing {thing_id} does not exist.")

    @app.post("/sessions")
    async def log_in(credentials: Credentials) -> dict[str, str]:
        return {"user": credentials.username}

    @app.get("/search")
    async def search(limit: int = Query(le=100)) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/limited")
    async def limited() -> None:
        raise RateLimited("Slow down.", retry_after_seconds=30)

    @app.put("/things/{thing_id}")
    async def replace_thing(thing_id: int) -> None:
        raise Conflict(
            f"Thing {thing_id} changed.",
            extensions={
                "current_version": 3,
                "changed_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                "status": 200,
                "type": "ignored",
            },
        )

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="I only brew tea.")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"cannot connect with password {LEAKED_SECRET}")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the test application, in process."""
    async with asgi_client(build_app()) as http:
        yield http


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_a_domain_error_becomes_its_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/things/42?secret=1", headers={"X-Correlation-Id": "corr-7"})

    assert problem(response, 404) == {
        "type": "urn:mandi:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Thing 42 does not exist.",
        "instance": "/things/42",
        "trace_id": None,
        "correlation_id": "corr-7",
    }


async def test_extensions_are_added_but_never_replace_standard_members(
    client: httpx.AsyncClient,
) -> None:
    body = problem(await client.put("/things/7"), 409)

    assert body["current_version"] == 3
    assert body["changed_at"] == "2026-01-02T03:04:05Z"
    assert body["type"] == "urn:mandi:problem:conflict"
    assert body["status"] == 409


async def test_a_rate_limit_says_when_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.get("/limited")

    assert problem(response, 429)["type"] == "urn:mandi:problem:rate-limited"
    assert response.headers["retry-after"] == "30"


async def test_an_invalid_body_lists_what_failed_without_echoing_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/sessions", json={"password": LEAKED_SECRET})

    body = problem(response, 422)
    assert body["type"] == "urn:mandi:problem:invalid-input"
    assert {(tuple(error["loc"]), error["type"]) for error in body["errors"]} == {
        (("body", "username"), "missing"),
        (("body", "password"), "string_too_short"),
    }
    assert all(set(error) == {"loc", "msg", "type"} for error in body["errors"])
    assert LEAKED_SECRET not in response.text


async def test_malformed_json_is_an_invalid_input(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/sessions",
        content=b'{"password": "' + LEAKED_SECRET.encode() + b'",',
        headers={"content-type": "application/json"},
    )

    body = problem(response, 422)
    assert [error["type"] for error in body["errors"]] == ["json_invalid"]
    assert LEAKED_SECRET not in response.text


async def test_an_invalid_query_parameter_names_its_location(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/search", params={"limit": "lots"}), 422)

    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert "lots" not in str(body)


async def test_an_unknown_route_is_a_not_found_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/nowhere"), 404)

    assert body["type"] == "urn:mandi:problem:not-found"
    assert body["instance"] == "/nowhere"


async def test_a_wrong_method_says_which_are_allowed(client: httpx.AsyncClient) -> None:
    response = await client.delete("/search")

    assert problem(response, 405)["type"] == "urn:mandi:problem:method-not-allowed"
    assert response.headers["allow"] == "GET"


async def test_an_http_exception_keeps_its_detail(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/teapot"), 418)

    assert body["type"] == "urn:mandi:problem:i'm-a-teapot"
    assert body["detail"] == "I only brew tea."


async def test_an_unexpected_error_is_logged_and_answered_generically(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mandi_errors"):
        response = await client.get("/boom", headers={"X-Correlation-Id": "corr-500"})

    body = problem(response, 500)
    assert body["type"] == "urn:mandi:problem:internal-error"
    assert body["correlation_id"] == "corr-500"
    for leak in (LEAKED_SECRET, "Traceback", "RuntimeError", "password"):
        assert leak not in response.text
    [record] = [r for r in caplog.records if r.name.startswith("mandi_errors")]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


class FailingMiddleware:
    """A middleware that breaks before the application runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise RuntimeError(LEAKED_SECRET)
        await self.app(scope, receive, send)


async def test_an_error_in_an_outer_middleware_is_still_a_problem() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(FailingMiddleware)
    # Starlette raises the error again after answering, for the server to log it.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mandi.test") as http:
        response = await http.get("/anything")

    body = problem(response, 500)
    assert body["correlation_id"] is None
    assert LEAKED_SECRET not in response.text


async def test_the_trace_id_of_the_request_is_in_the_problem() -> None:
    tracer = TracerProvider().get_tracer("errors-tests")
    inner = FastAPI()
    install_problem_handlers(inner)

    trace_ids: list[str] = []

    async def traced(scope: Scope, receive: Receive, send: Send) -> None:
        with tracer.start_as_current_span("request") as span:
            trace_ids.append(format(span.get_span_context().trace_id, "032x"))
            await inner(scope, receive, send)

    transport = httpx.ASGITransport(app=traced)
    async with httpx.AsyncClient(transport=transport, base_url="http://mandi.test") as http:
        body = problem(await http.get("/nowhere"), 404)

    assert body["trace_id"] == trace_ids[0]


def test_the_problem_model_documents_error_responses() -> None:
    schema = build_app().openapi()

    responses = schema["paths"]["/things/{thing_id}"]["get"]["responses"]
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProblemDetail"
    }
    assert {"type", "title", "status", "detail", "instance"} <= set(
        schema["components"]["schemas"]["ProblemDetail"]["required"]
    )
