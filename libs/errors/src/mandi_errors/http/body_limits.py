"""Refusing request bodies that are too large (413) or not in a format the API reads (415).

The body is read into memory up to the limit before the application sees it: Mandi's APIs take
small JSON documents, and a bounded buffer is simpler and safer than counting inside the app.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mandi_errors.domain_errors import DomainError, PayloadTooLarge, UnsupportedMediaType
from mandi_errors.http.rendering import problem_response

__all__ = ["JSON_BODIES", "BodySizeLimitMiddleware"]

JSON_BODIES = ("application/json", "application/merge-patch+json")
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class _BodyTooLargeError(Exception):
    """The streamed body grew past the limit."""


class _ClientGoneError(Exception):
    """The client disconnected before sending its whole body."""


class BodySizeLimitMiddleware:
    """Pure ASGI middleware: 413 past `max_bytes`, 415 for a body of a type not allowed.

    Add it before `instrument_app` (so it sits inside the request-id middleware) for its
    problems to carry the request's correlation id.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, *, allowed_content_types: Collection[str] = JSON_BODIES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.allowed_content_types = frozenset(kind.lower() for kind in allowed_content_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Checks the headers, then reads the body within the limit and hands it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope["method"], Headers(scope=scope))
        if refusal is not None:
            await problem_response(refusal, scope["path"])(scope, receive, send)
            return
        try:
            body = await _read_body(receive, self.max_bytes)
        except _BodyTooLargeError:
            await problem_response(self._too_large(), scope["path"])(scope, receive, send)
            return
        except _ClientGoneError:
            return  # nobody is left to answer
        await self.app(scope, _replaying(body, receive), send)

    def _refusal(self, method: str, headers: Headers) -> DomainError | None:
        length = _declared_length(headers)
        if length is not None and length > self.max_bytes:
            return self._too_large()
        has_body = bool(length) or "transfer-encoding" in headers
        if method in _METHODS_WITH_BODY and has_body and not self._readable(headers):
            accepted = ", ".join(sorted(self.allowed_content_types))
            return UnsupportedMediaType(f"Send the request body as {accepted}.")
        return None

    def _readable(self, headers: Headers) -> bool:
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return media_type in self.allowed_content_types

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")


def _declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None  # the server rejects a malformed length; the streamed count still applies


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGoneError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()  # after the body, the app may wait for the disconnect
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
