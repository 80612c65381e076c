"""What every service gets from mandi_runtime: probes, problem+json, one-line start-up errors."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import APIRouter, FastAPI
from starlette.requests import Request

import mandi_runtime
from mandi_config import ServiceSettings, StartupError
from mandi_errors import Conflict
from mandi_runtime import create_service_app, migrate, require_free_port
from mandi_testing import asgi_client, assert_public_surface


class _Settings(ServiceSettings):
    service_name: str = "sample"


def test_the_public_surface_is_its_all():
    assert_public_surface(mandi_runtime)


def _app(*, ready: bool = True) -> FastAPI:
    router = APIRouter()

    @router.post("/things")
    async def add_thing(body: dict[str, int]) -> dict[str, int]:
        if body.get("n") == 0:
            raise Conflict("There is a thing already.")
        return body

    @router.get("/{thing_id}")
    async def read_thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    async def dependency(_request: Request) -> None:
        if not ready:
            raise ConnectionError("the database does not answer")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    return create_service_app(
        _Settings(),
        title="sample",
        lifespan=lifespan,
        routers=[router],
        readiness=[dependency],
        max_body_bytes=100,
    )


async def test_probes_and_routes_answer():
    async with asgi_client(_app()) as client:
        assert (await client.get("/healthz")).json() == {"status": "alive"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        assert (await client.post("/things", json={"n": 1})).json() == {"n": 1}
        assert "x-request-id" in (await client.get("/healthz")).headers


async def test_errors_are_problems():
    async with asgi_client(_app()) as client:
        conflict = await client.post("/things", json={"n": 0})
        assert conflict.status_code == 409
        assert conflict.headers["content-type"] == "application/problem+json"
        too_big = await client.post("/things", json={"n": 1, "pad": "x" * 200})
        assert too_big.status_code == 413
        assert (await client.get("/nowhere")).headers["content-type"] == "application/problem+json"


async def test_the_openapi_document_names_the_gateways_path_as_its_server():
    async with asgi_client(_app()) as client:
        answer = await client.get("/openapi.json")
    document = answer.json()
    assert answer.status_code == 200
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "/api/v1/sample"}]
    assert set(document["paths"]) == {"/things", "/{thing_id}"}


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect", "/redoc"])
async def test_no_documentation_page_is_served_not_even_by_an_id_route(path):
    async with asgi_client(_app()) as client:
        answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "/api/v1/sample/openapi.json" in answer.json()["detail"]


async def test_not_ready_when_a_dependency_does_not_answer():
    async with asgi_client(_app(ready=False)) as client:
        answer = await client.get("/readyz")
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert "database" not in answer.text  # the reason is logged, not shown


def test_a_taken_port_is_one_line_naming_the_variable():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(StartupError, match=f"port {port} is taken.*MANDI_SAMPLE_HTTP_PORT"):
            require_free_port("127.0.0.1", port, "MANDI_SAMPLE_HTTP_PORT")


def test_migrate_without_migrations_is_a_startup_error(tmp_path):
    with pytest.raises(StartupError, match="no migrations folder"):
        migrate(_Settings(), tmp_path / "absent")
