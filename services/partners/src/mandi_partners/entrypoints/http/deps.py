"""FastAPI dependencies of the partners service, as Annotated aliases."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_errors import PreconditionFailed
from mandi_partners.bootstrap import PartnersService
from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_security import Principal

__all__ = ["DepsDep", "IdempotencyDep", "IfMatchDep", "PrincipalDep", "etag"]

_ENTITY_TAG = re.compile(r'^(?:W/)?"(?P<version>[0-9]{1,9})"$')


def etag(version: int) -> str:
    """The entity tag of a partner's version."""
    return f'"{version}"'


def _service(request: Request) -> PartnersService:
    service: PartnersService = request.app.state.service
    return service


def _deps(request: Request) -> PartnersDependencies:
    return _service(request).deps


async def _principal(request: Request) -> Principal:
    return await _service(request).resolver.resolve(request.headers)


async def _idempotency_key(
    request: Request,
    principal: Annotated[Principal, Depends(_principal)],
    idempotency_key: Annotated[str | None, Header()] = None,
) -> IdempotencyKey | None:
    if idempotency_key is None:
        return None
    # The body as sent, method and path: a retry must be the same request to get the answer.
    fingerprint = request_fingerprint(request.method, request.url.path, await request.body())
    return IdempotencyKey.from_header(principal.principal_id, idempotency_key, fingerprint)


def _if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    if if_match is None:
        return None
    match = _ENTITY_TAG.match(if_match.strip())
    if match is None:
        raise PreconditionFailed('If-Match names one version, as the ETag gave it: "3".')
    return int(match["version"])


DepsDep = Annotated[PartnersDependencies, Depends(_deps)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
IdempotencyDep = Annotated[IdempotencyKey | None, Depends(_idempotency_key)]
IfMatchDep = Annotated[int | None, Depends(_if_match)]
