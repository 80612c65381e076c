"""What every service's routes take from a request, as FastAPI dependencies.

    async def amend(principal: PrincipalDep, version: IfMatchDep, key: IdempotencyDep, ...)

The caller is resolved by the running service's resolver (principal headers only with the
gateway's secret); an Idempotency-Key is bound to the caller and to the request as sent; an
If-Match names one version, as the answer's ETag gave it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_errors import BadRequest
from mandi_runtime.service import RunningService
from mandi_security import Principal

__all__ = [
    "IdempotencyDep",
    "IfMatchDep",
    "PrincipalDep",
    "deps_of",
    "etag",
    "require_if_match",
    "service_of",
]

_ENTITY_TAG_PATTERN = r'^(W/)?"[0-9]{1,9}"$'
_ENTITY_TAG = re.compile(r'^(?:W/)?"(?P<version>[0-9]{1,9})"$')
_IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"


def service_of(request: Request) -> RunningService[Any, Any]:
    """The running service the request reached."""
    service: RunningService[Any, Any] = request.app.state.service
    return service


async def deps_of(request: Request) -> Any:
    """The use cases' dependencies; a service types them: `Annotated[Its, Depends(deps_of)]`."""
    # Async, as every dependency here: FastAPI runs a plain `def` in its thread pool, a thread
    # hand-off per request for a lookup.
    return service_of(request).deps


def etag(version: int) -> str:
    """The entity tag of an aggregate's version."""
    return f'"{version}"'


async def _principal(request: Request) -> Principal:
    return await service_of(request).resolver.resolve(request.headers)


async def _idempotency_key(
    request: Request,
    principal: Annotated[Principal, Depends(_principal)],
    idempotency_key: Annotated[
        str | None,
        Header(
            pattern=_IDEMPOTENCY_KEY_PATTERN,
            description="Makes a retry of this request answer as the first did (24 hours).",
            examples=["order-7f3a-attempt"],
        ),
    ] = None,
) -> IdempotencyKey | None:
    if idempotency_key is None:
        return None
    # The body as sent, method, path and query: a retry must be the same request to get the
    # answer.
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    fingerprint = request_fingerprint(request.method, target, await request.body())
    return IdempotencyKey.from_header(principal.principal_id, idempotency_key, fingerprint)


async def _if_match(
    if_match: Annotated[
        str | None,
        Header(
            pattern=_ENTITY_TAG_PATTERN,
            description='The version read, as its ETag gave it ("3").',
            examples=['"3"'],
        ),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    match = _ENTITY_TAG.match(if_match.strip())
    if match is None:
        raise BadRequest('If-Match names one version, as the ETag gave it: "3".')
    return int(match["version"])


def require_if_match(document: dict[str, Any], _settings: object = None) -> None:
    """Marks If-Match required on PATCH in the OpenAPI document: without it the answer is 428."""
    for operations in document["paths"].values():
        for parameter in operations.get("patch", {}).get("parameters", []):
            if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
                parameter["required"] = True


PrincipalDep = Annotated[Principal, Depends(_principal)]
IdempotencyDep = Annotated[IdempotencyKey | None, Depends(_idempotency_key)]
IfMatchDep = Annotated[int | None, Depends(_if_match)]
