"""A dependency that blinks is a 503 with Retry-After; an idempotent read is tried once more."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from mandi_config import ServiceSettings
from mandi_runtime import create_service_app
from mandi_testing import asgi_client


class _Settings(ServiceSettings):
    service_name: str = "sample"


class _Blink(Exception):
    """What the sample's dependency raises while it restarts."""


def _app(failures: dict[str, int], calls: dict[str, int]) -> FastAPI:
    """Each route fails with _Blink as many times as `failures` says, then answers."""
    router = APIRouter()

    def _maybe_blink(route: str) -> None:
        calls[route] = calls.get(route, 0) + 1
        if failures.get(route, 0) > 0:
            failures[route] -= 1
            raise _Blink(route)

    @router.get("/things/{thing_id}")
    async def read_thing(thing_id: int) -> dict[str, int]:
        _maybe_blink("read")
        return {"id": thing_id}

    @router.post("/things")
    async def add_thing(body: dict[str, int]) -> dict[str, int]:
        _maybe_blink("write")
        return body

    @router.get("/broken")
    async def broken() -> None:
        calls["broken"] = calls.get("broken", 0) + 1
        raise RuntimeError("a fault of ours")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    return create_service_app(
        _Settings(),
        title="sample",
        lifespan=lifespan,
        routers=[router],
        unavailable=[lambda error: isinstance(error, _Blink)],
    )


async def test_a_read_that_meets_a_stale_connection_is_tried_once_more():
    calls: dict[str, int] = {}
    async with asgi_client(_app({"read": 1}, calls)) as client:
        answer = await client.get("/things/7")
    assert (answer.status_code, answer.json()) == (200, {"id": 7})
    assert calls["read"] == 2


async def test_a_read_that_fails_twice_is_a_503_with_retry_after():
    calls: dict[str, int] = {}
    async with asgi_client(_app({"read": 5}, calls)) as client:
        answer = await client.get("/things/7")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["type"] == "urn:mandi:problem:dependency-unavailable"
    assert calls["read"] == 2


async def test_a_write_is_never_repeated_and_answers_503():
    calls: dict[str, int] = {}
    async with asgi_client(_app({"write": 1}, calls)) as client:
        answer = await client.post("/things", json={"n": 1})
    assert answer.status_code == 503
    assert "retry-after" in answer.headers
    assert calls["write"] == 1


async def test_any_other_error_is_still_a_500_and_not_retried():
    calls: dict[str, int] = {}
    async with asgi_client(_app({}, calls)) as client:
        answer = await client.get("/broken")
    assert answer.status_code == 500
    assert answer.json()["type"] == "urn:mandi:problem:internal-error"
    assert calls["broken"] == 1
