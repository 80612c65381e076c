"""The webhook API: thin routes, each parses, calls one use case and shapes the answer.

Behind the gateway these are `/api/v1/webhook/…`. An endpoint's answer carries its ETag; a
PATCH names it in If-Match (disabling and rotating may). A replayed idempotent answer says so
in `Idempotent-Replayed`. A signing secret is shown in the answer that made it, never again.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from mandi_db import Answer
from mandi_runtime.pages import CURSOR_PATTERN, decode_cursor, encode_cursor
from mandi_runtime.requests import IdempotencyDep, IfMatchDep, PrincipalDep, etag
from mandi_webhook.domain.deliveries import DeliveryStatus
from mandi_webhook.entrypoints.http.deps import DepsDep
from mandi_webhook.entrypoints.http.schemas import (
    DisableIn,
    EndpointChangesIn,
    EndpointIn,
    RecoveryIn,
    RotationIn,
)
from mandi_webhook.service_layer import deliveries, endpoints
from mandi_webhook.service_layer.delivery_views import (
    DeliveryDetailView,
    DeliveryView,
    RecoveryView,
)
from mandi_webhook.service_layer.views import EndpointView, EndpointWithSecretView

__all__ = ["router"]

router = APIRouter()
V = TypeVar("V", EndpointView, EndpointWithSecretView)
_ENDPOINTS = "endpoints"
_DELIVERIES = "deliveries"
_LOCATION = "/api/v1/webhook/endpoints/{}"


@router.post(
    "/endpoints",
    response_model=EndpointWithSecretView,
    status_code=status.HTTP_201_CREATED,
    tags=[_ENDPOINTS],
)
async def register_endpoint(
    body: EndpointIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> EndpointWithSecretView:
    """Registers an endpoint of the caller's partner; the answer shows its signing secret,
    the only time it is shown."""
    answer = await endpoints.register_endpoint(
        deps, principal, body.to_registration(), partner_id=body.partner_id, key=idempotency
    )
    response.headers["Location"] = _LOCATION.format(answer.value.id)
    return _versioned(answer, response)


@router.get("/endpoints", response_model=list[EndpointView], tags=[_ENDPOINTS])
async def list_endpoints(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    partner_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> list[EndpointView]:
    """Endpoints, oldest first: the caller's partner's (operator staff: the tenant's, or the
    named partner's); `X-Next-Cursor` names the next page."""
    views, following = await endpoints.list_endpoints(
        deps, principal, partner_id=partner_id, limit=limit, after=decode_cursor(cursor)
    )
    next_cursor = encode_cursor(following)
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
    return views


@router.get("/endpoints/{endpoint_id}", response_model=EndpointView, tags=[_ENDPOINTS])
async def get_endpoint(
    endpoint_id: UUID, principal: PrincipalDep, deps: DepsDep, response: Response
) -> EndpointView:
    """One endpoint, its secrets named by id and lifetime only."""
    view = await endpoints.endpoint(deps, principal, endpoint_id)
    response.headers["ETag"] = etag(view.version)
    return view


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointView, tags=[_ENDPOINTS])
async def change_endpoint(
    *,
    endpoint_id: UUID,
    body: EndpointChangesIn,
    principal: PrincipalDep,
    deps: DepsDep,
    version: IfMatchDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> EndpointView:
    """Changes an endpoint's URL (checked again), event types, description, rate limit or
    whether it is enabled, naming the version read in If-Match."""
    answer = await endpoints.change_endpoint(
        deps, principal, endpoint_id, body.to_changes(), if_match=version, key=idempotency
    )
    return _versioned(answer, response)


@router.post("/endpoints/{endpoint_id}/disable", response_model=EndpointView, tags=[_ENDPOINTS])
async def disable_endpoint(
    *,
    endpoint_id: UUID,
    principal: PrincipalDep,
    deps: DepsDep,
    version: IfMatchDep,
    idempotency: IdempotencyDep,
    response: Response,
    body: DisableIn | None = None,
) -> EndpointView:
    """Stops an endpoint's deliveries, with an optional reason."""
    reason = body.reason if body else None
    answer = await endpoints.disable_endpoint(
        deps, principal, endpoint_id, reason, if_match=version, key=idempotency
    )
    return _versioned(answer, response)


@router.post(
    "/endpoints/{endpoint_id}/secret/rotate",
    response_model=EndpointWithSecretView,
    tags=[_ENDPOINTS],
)
async def rotate_secret(
    *,
    endpoint_id: UUID,
    principal: PrincipalDep,
    deps: DepsDep,
    version: IfMatchDep,
    idempotency: IdempotencyDep,
    response: Response,
    body: RotationIn | None = None,
) -> EndpointWithSecretView:
    """Gives the endpoint a new signing secret, shown in this answer only; the secrets before
    it keep signing beside it for `overlap_seconds` (24 hours unless said)."""
    overlap = (body or RotationIn()).overlap
    answer = await endpoints.rotate_secret(
        deps, principal, endpoint_id, overlap, if_match=version, key=idempotency
    )
    return _versioned(answer, response)


@router.get(
    "/endpoints/{endpoint_id}/deliveries", response_model=list[DeliveryView], tags=[_DELIVERIES]
)
async def list_deliveries(
    *,
    endpoint_id: UUID,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> list[DeliveryView]:
    """The endpoint's deliveries, oldest first, of one status (`dead`: its dead letters) or of
    all; `X-Next-Cursor` names the next page."""
    views, following = await deliveries.list_deliveries(
        deps, principal, endpoint_id, status=status, limit=limit, after=decode_cursor(cursor)
    )
    next_cursor = encode_cursor(following)
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
    return views


@router.get(
    "/endpoints/{endpoint_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetailView,
    tags=[_DELIVERIES],
)
async def get_delivery(
    endpoint_id: UUID, delivery_id: UUID, principal: PrincipalDep, deps: DepsDep
) -> DeliveryDetailView:
    """One delivery with its attempt log: each attempt's status, latency and answer."""
    return await deliveries.delivery(deps, principal, endpoint_id, delivery_id)


@router.post(
    "/endpoints/{endpoint_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryView,
    status_code=status.HTTP_202_ACCEPTED,
    tags=[_DELIVERIES],
)
async def replay_delivery(
    *,
    endpoint_id: UUID,
    delivery_id: UUID,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> DeliveryView:
    """Sends a delivery that has ended (succeeded or dead) again, with the same `webhook-id`
    and body, on a fresh retry schedule; 409 while it is still on its way."""
    answer = await deliveries.replay(deps, principal, endpoint_id, delivery_id, key=idempotency)
    return _replayed(answer, response)


@router.post(
    "/endpoints/{endpoint_id}/recover",
    response_model=RecoveryView,
    status_code=status.HTTP_202_ACCEPTED,
    tags=[_DELIVERIES],
)
async def recover_deliveries(
    *,
    endpoint_id: UUID,
    body: RecoveryIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> RecoveryView:
    """Sends every dead delivery of the endpoint made since `since` again, now."""
    answer = await deliveries.recover(deps, principal, endpoint_id, body.since, key=idempotency)
    return _replayed(answer, response)


R = TypeVar("R", DeliveryView, RecoveryView)


def _replayed(answer: Answer[R], response: Response) -> R:
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.value


def _versioned(answer: Answer[V], response: Response) -> V:
    """The answer's view, its version as the ETag, and whether it was replayed."""
    response.headers["ETag"] = etag(answer.value.version)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.value
