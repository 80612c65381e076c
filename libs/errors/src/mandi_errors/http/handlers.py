"""Installing problem+json as the answer to every error a FastAPI application can raise."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mandi_errors.domain_errors import DomainError
from mandi_errors.http.rendering import problem_response

__all__ = ["ResponseWatch", "UnexpectedErrorMiddleware", "install_problem_handlers"]

_log = logging.getLogger(__name__)


def install_problem_handlers(app: FastAPI) -> None:
    """Answers domain, validation, HTTP and unexpected errors as problem+json."""
    for handled in (DomainError, RequestValidationError, HTTPException):
        app.add_exception_handler(handled, _answer)
    # Innermost of the middleware, so the request's ids are still bound when an error is logged.
    app.user_middleware.append(Middleware(UnexpectedErrorMiddleware))
    # An error raised by a middleware outside that one reaches Starlette's last handler; the
    # server logs it, since Starlette raises it again once this answer is sent.
    app.add_exception_handler(Exception, _answer)


async def _answer(request: Request, error: Exception) -> Response:
    return problem_response(error, request.scope["path"])


class ResponseWatch:
    """Passes a response's messages on, noting whether it has begun (then no other may)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def send(self, message: Message) -> None:
        """Sends one message of the response."""
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class UnexpectedErrorMiddleware:
    """Logs an unexpected error with its traceback and answers a generic 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Passes the request on; an exception escaping the app becomes a 500."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = ResponseWatch(send)
        try:
            await self.app(scope, receive, response.send)
        except Exception as error:
            if response.started:
                raise  # too late for a problem document: the server drops the connection
            _log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            await problem_response(error, scope["path"])(scope, receive, send)
