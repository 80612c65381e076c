"""A small real stand-in for the external KYC and tax-id verification API partners calls.

    FAKE_VERIFIER_TOKEN=… python -m mandi_testing.fake_verifier --host 127.0.0.1 --port 58190

API (the shape of a typical vendor's):
    POST /v1/verifications   {"reference_id", "legal_name", "country", "tax_ids": [{kind, country,
                             value}]}  → 200 {"verification_id", "outcome": "passed"|"failed",
                             "reasons": [...]}; 401 without the bearer token when one is set.
                             A tax id containing "0000" is "not in the registry": failed.
    GET  /healthz            → 200
Controls for tests:
    POST /_control/mode      {"mode": "up"|"error"|"slow", "delay_seconds": 5}: error answers 503,
                             slow waits before answering.
    GET  /_control/calls     {"count": n}, verification requests received;
                             ?reference_id=… those about one application.

It logs nothing of what it is sent (uvicorn's access log has paths only).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mandi_testing.fake_server import FakeServer, serve
from mandi_testing.processes import free_port

__all__ = ["FakeVerifier", "create_app", "running_fake_verifier"]


@dataclass
class _State:
    mode: str = "up"
    delay_seconds: float = 5.0
    calls: int = 0
    calls_about: dict[str, int] = field(default_factory=dict)


def create_app(token: str | None) -> FastAPI:
    """The fake's application; `token` is the bearer token callers must present (None: any)."""
    app = FastAPI(title="Fake KYC verifier")
    state = _State()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/verifications", response_model=None)
    async def verify(request: Request) -> JSONResponse | dict[str, Any]:
        state.calls += 1
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await request.json()
        reference = str(body.get("reference_id"))
        state.calls_about[reference] = state.calls_about.get(reference, 0) + 1
        if state.mode == "error":
            return JSONResponse({"error": "registry unavailable"}, status_code=503)
        if state.mode == "slow":
            await asyncio.sleep(state.delay_seconds)
        unknown = [item for item in body.get("tax_ids", []) if "0000" in str(item.get("value"))]
        return {
            "verification_id": str(uuid.uuid4()),
            "outcome": "failed" if unknown else "passed",
            "reasons": ["tax id not found in the registry"] if unknown else [],
        }

    @app.post("/_control/mode")
    async def set_mode(request: Request) -> dict[str, str]:
        body = await request.json()
        state.mode = body["mode"]
        state.delay_seconds = float(body.get("delay_seconds", state.delay_seconds))
        return {"mode": state.mode}

    @app.get("/_control/calls")
    async def calls(reference_id: str | None = None) -> dict[str, int]:
        if reference_id is not None:
            return {"count": state.calls_about.get(reference_id, 0)}
        return {"count": state.calls}

    return app


class FakeVerifier(FakeServer):
    """A fake verifier process on a fixed port, which a test may stop and start again."""

    module = "mandi_testing.fake_verifier"
    token_variable = "FAKE_VERIFIER_TOKEN"  # noqa: S105 - the variable's name
    title = "the fake verifier"

    def set_mode(self, mode: str, delay_seconds: float = 5.0) -> None:
        """up, error (503) or slow (answers after `delay_seconds`)."""
        self._call("/_control/mode", {"mode": mode, "delay_seconds": delay_seconds})

    def calls(self, about: str | None = None) -> int:
        """Verification requests received since the process started (about one application)."""
        query = f"?reference_id={about}" if about else ""
        return int(self._call(f"/_control/calls{query}")["count"])


@contextmanager
def running_fake_verifier(token: str | None, workdir: Path) -> Iterator[FakeVerifier]:
    """A fake verifier on a free port, stopped when the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    verifier = FakeVerifier(free_port(), token, workdir / "fake-verifier.log")
    verifier.start()
    try:
        yield verifier
    finally:
        verifier.stop()


def main() -> None:
    """Serves the fake until interrupted."""
    description = __doc__.splitlines()[0] if __doc__ else None
    serve(
        create_app,
        description=description,
        token_variable=FakeVerifier.token_variable,
        default_port=58190,
    )


if __name__ == "__main__":
    main()
