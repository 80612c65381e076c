from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from mandi_errors.http import PROBLEM_JSON, BodySizeLimitMiddleware, install_problem_handlers
from mandi_testing.http import asgi_client

LIMIT = 64


def build_app(**options: object) -> FastAPI:
    """An application echoing the size of what it received, behind the body limit."""
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=LIMIT, **options)  # type: ignore[arg-type]

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.get("/echo")
    async def ping() -> dict[str, str]:
        return {"ping": "pong"}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application with the default limits."""
    async with asgi_client(build_app()) as http:
        yield http


async def chunks(count: int, size: int = 16) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * size


def assert_problem(response: httpx.Response, status: int, type_slug: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == f"urn:mandi:problem:{type_slug}"


async def test_a_body_within_the_limit_reaches_the_application(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"note": "small"})

    assert response.status_code == 200
    assert response.json() == {"received": len(b'{"note":"small"}')}


async def test_a_declared_length_over_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"note": "x" * LIMIT})

    assert_problem(response, 413, "payload-too-large")
    assert str(LIMIT) in response.json()["detail"]


async def test_a_streamed_body_growing_past_the_limit_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/echo", content=chunks(5), headers={"content-type": "application/json"}
    )

    assert_problem(response, 413, "payload-too-large")


async def test_a_streamed_body_within_the_limit_is_replayed_whole(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/echo", content=chunks(3), headers={"content-type": "application/json"}
    )

    assert response.json() == {"received": 48}


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"a,b", headers={"content-type": "text/csv"})

    assert_problem(response, 415, "unsupported-media-type")


async def test_a_body_without_a_content_type_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"{}")

    assert_problem(response, 415, "unsupported-media-type")


async def test_json_with_a_charset_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo", content=b"{}", headers={"content-type": "Application/JSON; charset=utf-8"}
    )

    assert response.status_code == 200


async def test_requests_without_a_body_need_no_content_type(client: httpx.AsyncClient) -> None:
    assert (await client.get("/echo")).status_code == 200
    assert (await client.post("/echo")).json() == {"received": 0}


async def test_the_accepted_content_types_can_be_chosen() -> None:
    transport = httpx.ASGITransport(app=build_app(allowed_content_types=("text/csv",)))
    async with httpx.AsyncClient(transport=transport, base_url="http://mandi.test") as http:
        csv = await http.post("/echo", content=b"a,b", headers={"content-type": "text/csv"})
        json = await http.post("/echo", json={})

    assert csv.json() == {"received": 3}
    assert_problem(json, 415, "unsupported-media-type")
