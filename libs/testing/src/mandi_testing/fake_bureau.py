"""A small real stand-in for the external credit bureau the risk service calls.

    FAKE_BUREAU_TOKEN=… python -m mandi_testing.fake_bureau --host 127.0.0.1 --port 58191

API (the shape of a typical bureau's):
    GET  /v1/scores/{subject}  → 200 {"subject", "score": 300..900, "as_of": ISO date-time with
                               offset, "bureau": "fake"}; 401 without the bearer token when one
                               is set. The score is derived from the subject unless one was set;
                               404 {"error"} for a subject the bureau holds no file on.
    GET  /healthz              → 200
Controls for tests:
    PUT  /admin/scores/{subject}  {"score": 300..900, "as_of": optional ISO date-time with offset}
    DELETE /admin/scores/{subject}  the bureau holds no file on the subject from now on (404)
    POST /_control/mode      {"mode": "ok"|"slow"|"fail"|"garbage", "delay_seconds": 5,
                             "garbage": one of GARBAGE_KINDS}: fail answers 503, slow waits before
                             answering, garbage answers 200 with a body that breaks the schema.
    GET  /_control/calls     {"count": n}, score requests received; ?subject=… those about one.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from mandi_testing.fake_server import FakeServer, serve
from mandi_testing.processes import free_port

__all__ = [
    "GARBAGE_KINDS",
    "MODES",
    "FakeBureau",
    "create_app",
    "derived_score",
    "running_fake_bureau",
]

MODES = frozenset({"ok", "slow", "fail", "garbage"})
_LOWEST, _HIGHEST = 300, 900


def derived_score(subject: str) -> int:
    """The score the fake gives `subject` unless one was set: stable across runs."""
    digest = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:8], "big")
    return _LOWEST + digest % (_HIGHEST - _LOWEST + 1)


@dataclass
class _State:
    mode: str = "ok"
    delay_seconds: float = 5.0
    garbage: str = "wrong-type"
    calls: int = 0
    calls_about: dict[str, int] = field(default_factory=dict)
    scores: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    without_file: set[str] = field(default_factory=set)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _report(state: _State, subject: str) -> dict[str, Any]:
    score, as_of = state.scores.get(subject, (derived_score(subject), _now()))
    return {"subject": subject, "score": score, "as_of": as_of.isoformat(), "bureau": "fake"}


# Each breaks the schema in one way a careless client might let through.
_BROKEN_BODIES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "wrong-type": lambda report: {**report, "score": "lots"},
    "numeric-string": lambda report: {**report, "score": str(report["score"])},
    "float-score": lambda report: {**report, "score": 712.5},
    "out-of-range": lambda report: {**report, "score": 9000},
    "missing-field": lambda report: {k: v for k, v in report.items() if k != "as_of"},
    "naive-date": lambda report: {**report, "as_of": _now().replace(tzinfo=None).isoformat()},
    "future-date": lambda report: {**report, "as_of": (_now() + timedelta(days=365)).isoformat()},
    "other-subject": lambda report: {**report, "subject": f"not-{report['subject']}"},
}
GARBAGE_KINDS = frozenset({*_BROKEN_BODIES, "html"})  # html: an error page with status 200


def _garbage(kind: str, report: dict[str, Any]) -> JSONResponse | HTMLResponse:
    if kind == "html":
        return HTMLResponse("<html><body><h1>Service temporarily unavailable</h1></body></html>")
    return JSONResponse(_BROKEN_BODIES[kind](report))


def _setting(body: Any) -> tuple[int, datetime]:
    score, as_of = body["score"], body.get("as_of")
    when = datetime.fromisoformat(as_of) if as_of else _now()
    if type(score) is not int or not _LOWEST <= score <= _HIGHEST or when.tzinfo is None:
        raise ValueError("score: an int 300..900; as_of: an ISO date-time with an offset")
    return score, when


def _set_score(state: _State, subject: str, body: Any) -> JSONResponse | dict[str, Any]:
    try:
        state.scores[subject] = _setting(body)
    except (LookupError, TypeError, ValueError) as refused:
        return JSONResponse({"error": str(refused)}, status_code=422)
    return _report(state, subject)


def _set_mode(state: _State, body: dict[str, Any]) -> JSONResponse | dict[str, str]:
    if body.get("mode") not in MODES or body.get("garbage", state.garbage) not in GARBAGE_KINDS:
        return JSONResponse({"error": "unknown mode or garbage kind"}, status_code=422)
    state.mode = body["mode"]
    state.delay_seconds = float(body.get("delay_seconds", state.delay_seconds))
    state.garbage = body.get("garbage", state.garbage)
    return {"mode": state.mode}


def create_app(token: str | None) -> FastAPI:
    """The fake's application; `token` is the bearer token callers must present (None: any)."""
    app = FastAPI(title="Fake credit bureau")
    state = _State()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/scores/{subject}", response_model=None)
    async def score(subject: str, request: Request) -> JSONResponse | HTMLResponse | dict[str, Any]:
        state.calls += 1
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        state.calls_about[subject] = state.calls_about.get(subject, 0) + 1
        if state.mode == "fail":
            return JSONResponse({"error": "bureau unavailable"}, status_code=503)
        if subject in state.without_file:
            return JSONResponse({"error": "no credit file"}, status_code=404)
        if state.mode == "slow":
            await asyncio.sleep(state.delay_seconds)
        if state.mode == "garbage":
            return _garbage(state.garbage, _report(state, subject))
        return _report(state, subject)

    @app.put("/admin/scores/{subject}", response_model=None)
    async def set_score(subject: str, request: Request) -> JSONResponse | dict[str, Any]:
        return _set_score(state, subject, await request.json())

    @app.delete("/admin/scores/{subject}")
    async def forget(subject: str) -> dict[str, str]:
        state.without_file.add(subject)
        state.scores.pop(subject, None)
        return {"subject": subject, "file": "none"}

    @app.post("/_control/mode", response_model=None)
    async def set_mode(request: Request) -> JSONResponse | dict[str, str]:
        return _set_mode(state, await request.json())

    @app.get("/_control/calls")
    async def calls(subject: str | None = None) -> dict[str, int]:
        if subject is not None:
            return {"count": state.calls_about.get(subject, 0)}
        return {"count": state.calls}

    return app


class FakeBureau(FakeServer):
    """A fake bureau process on a fixed port, which a test may stop and start again."""

    module = "mandi_testing.fake_bureau"
    token_variable = "FAKE_BUREAU_TOKEN"  # noqa: S105 - the variable's name
    title = "the fake credit bureau"

    def set_mode(
        self, mode: str, *, delay_seconds: float = 5.0, garbage: str = "wrong-type"
    ) -> None:
        """ok, fail (503), slow (answers after `delay_seconds`) or garbage (of that kind)."""
        body = {"mode": mode, "delay_seconds": delay_seconds, "garbage": garbage}
        self._call("/_control/mode", body)

    def set_score(self, subject: str, score: int, as_of: datetime | None = None) -> None:
        """From now on the bureau reports `score` for `subject`, as of `as_of` (default: now)."""
        body = {"score": score, "as_of": as_of.isoformat() if as_of else None}
        self._call(f"/admin/scores/{subject}", body, method="PUT")

    def hold_no_file_on(self, subject: str) -> None:
        """From now on the bureau answers 404 for `subject`: it holds no credit file on it."""
        self._call(f"/admin/scores/{subject}", method="DELETE")

    def calls(self, about: str | None = None) -> int:
        """Score requests received since the process started (about one subject)."""
        query = f"?subject={about}" if about else ""
        return int(self._call(f"/_control/calls{query}")["count"])


@contextmanager
def running_fake_bureau(token: str | None, workdir: Path) -> Iterator[FakeBureau]:
    """A fake bureau on a free port, stopped when the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    bureau = FakeBureau(free_port(), token, workdir / "fake-bureau.log")
    bureau.start()
    try:
        yield bureau
    finally:
        bureau.stop()


def main() -> None:
    """Serves the fake until interrupted."""
    description = __doc__.splitlines()[0] if __doc__ else None
    serve(
        create_app,
        description=description,
        token_variable=FakeBureau.token_variable,
        default_port=58191,
    )


if __name__ == "__main__":
    main()
