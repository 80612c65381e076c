"""Use cases of an endpoint's deliveries: listing them, reading one with its attempt log,
replaying one, and recovering every dead one since a moment.

A replay sends the same body under the same `webhook-id` (receivers de-duplicate on it), on a
fresh retry schedule; it is for a delivery that has ended (succeeded or dead), never one still
on its way. Recovering makes an endpoint's dead deliveries since `since` due again: after an
outage on the receiver's side, what it missed arrives, each once more.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import InvalidInput, NotFound
from mandi_runtime.pages import Position
from mandi_security import Principal
from mandi_webhook.domain import access
from mandi_webhook.domain.deliveries import Delivery, DeliveryStatus
from mandi_webhook.service_layer.delivery_views import (
    DeliveryDetailView,
    DeliveryView,
    RecoveryView,
    delivery_detail_view,
    delivery_view,
)
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.unit_of_work import WebhookUnitOfWork

__all__ = ["delivery", "list_deliveries", "recover", "replay"]


async def list_deliveries(
    deps: WebhookDependencies,
    principal: Principal,
    endpoint_id: UUID,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 20,
    after: Position | None = None,
) -> tuple[list[DeliveryView], Position | None]:
    """A page of the endpoint's deliveries, oldest first, of one status or of all."""
    principal.require_scope(access.READ)
    async with deps.read_uow(principal.tenant_id) as uow:
        await _visible_endpoint(uow, principal, endpoint_id, scope=access.READ)
        found = await uow.deliveries.page(endpoint_id, status=status, limit=limit + 1, after=after)
    following = found[limit - 1] if len(found) > limit else None
    views = [delivery_view(each) for each in found[:limit]]
    return views, (following.created_at, following.id) if following else None


async def delivery(
    deps: WebhookDependencies, principal: Principal, endpoint_id: UUID, delivery_id: UUID
) -> DeliveryDetailView:
    """One delivery of the endpoint, with its attempt log."""
    principal.require_scope(access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        await _visible_endpoint(uow, principal, endpoint_id, scope=access.READ)
        found = await _delivery_of(uow, endpoint_id, delivery_id)
        attempts = await uow.deliveries.attempts(found.id)
    return delivery_detail_view(found, attempts)


async def replay(
    deps: WebhookDependencies,
    principal: Principal,
    endpoint_id: UUID,
    delivery_id: UUID,
    *,
    key: IdempotencyKey | None = None,
) -> Answer[DeliveryView]:
    """Sends an ended delivery again, now, with the same id and body (409 while on its way)."""
    principal.require_scope(access.WRITE)

    async def work(uow: WebhookUnitOfWork) -> DeliveryView:
        await _visible_endpoint(uow, principal, endpoint_id, scope=access.WRITE)
        found = await _delivery_of(uow, endpoint_id, delivery_id, for_update=True)
        replayed = found.replayed(deps.clock.now())
        await uow.deliveries.replay(replayed)
        return delivery_view(replayed)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=DeliveryView)


async def recover(
    deps: WebhookDependencies,
    principal: Principal,
    endpoint_id: UUID,
    since: datetime,
    *,
    key: IdempotencyKey | None = None,
) -> Answer[RecoveryView]:
    """Makes every dead delivery of the endpoint made since `since` due again, now."""
    principal.require_scope(access.WRITE)
    now = deps.clock.now()
    if since > now:
        raise InvalidInput("`since` is a moment in the past: nothing has died after now.")

    async def work(uow: WebhookUnitOfWork) -> RecoveryView:
        await _visible_endpoint(uow, principal, endpoint_id, scope=access.WRITE)
        return RecoveryView(recovered=await uow.deliveries.recover(endpoint_id, since, now))

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=RecoveryView)


async def _visible_endpoint(
    uow: WebhookUnitOfWork, principal: Principal, endpoint_id: UUID, *, scope: str
) -> None:
    found = await uow.endpoints.get(endpoint_id)
    if found is None:
        raise NotFound("No such endpoint.")
    access.require_visible(principal, found.partner_id, scope=scope)


async def _delivery_of(
    uow: WebhookUnitOfWork, endpoint_id: UUID, delivery_id: UUID, *, for_update: bool = False
) -> Delivery:
    found = await uow.deliveries.get(delivery_id, for_update=for_update)
    if found is None or found.endpoint_id != endpoint_id:
        raise NotFound("No such delivery of this endpoint.")
    return found
