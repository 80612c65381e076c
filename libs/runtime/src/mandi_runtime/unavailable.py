"""A dependency that blinks is a 503 with Retry-After, never a 500.

When the database (or Redis) is restarting, a request fails through no fault of its own. An
idempotent read is tried once more first: a connection that died in the pool is the usual cause
and the pool has replaced it by then. Otherwise, and for writes (which may not be repeated),
the client gets a 503 problem saying when to retry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mandi_errors import DependencyUnavailable
from mandi_errors.http import ResponseWatch, problem_response
from mandi_observability import get_logger

__all__ = ["Unavailable", "UnavailableDependencyMiddleware"]

Unavailable = Callable[[BaseException], bool]
_IDEMPOTENT_READS = frozenset({"GET", "HEAD"})
_log = get_logger("mandi.dependencies")


class UnavailableDependencyMiddleware:
    """Retries an idempotent read once when a dependency failed under it, else answers 503."""

    def __init__(
        self,
        app: ASGIApp,
        unavailable: Sequence[Unavailable],
        *,
        retry_after_seconds: int = 2,
    ) -> None:
        self.app = app
        self._unavailable = tuple(unavailable)
        self._retry_after = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Passes the request on, once more for a read if a dependency failed under it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        attempts = 2 if scope["method"] in _IDEMPOTENT_READS else 1
        for attempt in range(1, attempts + 1):
            failure = await self._attempt(
                scope, receive if attempt == 1 else _empty_body(receive), send
            )
            if failure is None:
                return
            _log.warning(
                "dependency unavailable",
                method=scope["method"],
                attempt=attempt,
                reason=type(failure).__name__,
            )
        refusal = DependencyUnavailable(
            "A service this request needs is not answering; try again shortly.",
            retry_after_seconds=self._retry_after,
        )
        await problem_response(refusal, scope["path"])(scope, receive, send)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send) -> BaseException | None:
        response = ResponseWatch(send)
        try:
            await self.app(scope, receive, response.send)
        except Exception as error:
            if response.started or not any(check(error) for check in self._unavailable):
                raise
            return error
        return None


def _empty_body(receive: Receive) -> Receive:
    """The body of a read (empty) once more, then the client's own messages (its disconnect)."""
    replayed = False

    async def receive_again() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return receive_again
