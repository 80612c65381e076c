"""Use cases of a partner's endpoints: registering one, reading and changing it, disabling it,
and rotating its signing secret.

A URL is checked by the SSRF guard before any transaction opens (resolving a host may take a
while): every address its host resolves to must be one deliveries may reach, and it is https
unless local endpoints are allowed (development only). Registration and rotation answer with
the new secret, the one time it is shown; their idempotent answers are stored sealed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from mandi_contracts import WebhookEndpointCreated, WebhookEndpointDisabled, WebhookSecretRotated
from mandi_contracts.public import PUBLIC_TYPES
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import NotFound, PreconditionFailed, PreconditionRequired
from mandi_runtime.pages import Position
from mandi_security import Principal
from mandi_webhook.domain import access
from mandi_webhook.domain.endpoints import (
    DisabledCause,
    Endpoint,
    EndpointChanges,
    SigningSecret,
    checked_url,
    event_filter,
)
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.unit_of_work import WebhookUnitOfWork
from mandi_webhook.service_layer.views import (
    EndpointView,
    EndpointWithSecretView,
    endpoint_view,
    endpoint_with_secret_view,
)
from mandi_webhooks import check_endpoint_url

__all__ = [
    "PUBLIC_EVENT_TYPES",
    "Registration",
    "change_endpoint",
    "disable_endpoint",
    "disable_gone_endpoint",
    "endpoint",
    "list_endpoints",
    "register_endpoint",
    "rotate_secret",
]

_GONE = "The endpoint answered a delivery with 410 Gone."
# The names of the public event types (`trade.confirmed`), which filters choose among.
PUBLIC_EVENT_TYPES = frozenset(name for name, _version in PUBLIC_TYPES)


@dataclass(frozen=True)
class Registration:
    """An endpoint as a client asks for it; its event types are checked when it is used."""

    url: str
    event_types: frozenset[str]
    description: str
    rate_limit: int
    ordered: bool = False


async def register_endpoint(
    deps: WebhookDependencies,
    principal: Principal,
    registration: Registration,
    *,
    partner_id: UUID | None = None,
    key: IdempotencyKey | None = None,
) -> Answer[EndpointWithSecretView]:
    """An endpoint of the caller's partner (or of the one operator staff name), with its first
    signing secret, shown in this answer only."""
    acting = access.acting_partner(principal, partner_id)
    event_types = event_filter(registration.event_types, PUBLIC_EVENT_TYPES)
    await _check_reach(deps, registration.url)

    async def work(uow: WebhookUnitOfWork) -> EndpointWithSecretView:
        secret = SigningSecret.generate(deps.clock.now())
        registered = Endpoint.register(
            partner_id=acting,
            url=registration.url,
            event_types=event_types,
            description=registration.description,
            rate_limit=registration.rate_limit,
            secret=secret,
            ordered=registration.ordered,
        )
        await uow.endpoints.add(registered)
        await uow.tenants.remember(uow.tenant_id)  # its jobs now visit the tenant
        await uow.publish(
            WebhookEndpointCreated(**_identity(uow, registered)), subject=str(registered.id)
        )
        return endpoint_with_secret_view(registered, secret)

    return await idempotently(
        deps.uow(principal.tenant_id), key, work, answer_type=EndpointWithSecretView
    )


async def endpoint(
    deps: WebhookDependencies, principal: Principal, endpoint_id: UUID
) -> EndpointView:
    """One endpoint, if the caller may see it (another partner's does not exist for it)."""
    principal.require_scope(access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        found = await uow.endpoints.get(endpoint_id)
    return endpoint_view(_visible(principal, found, scope=access.READ))


async def list_endpoints(
    deps: WebhookDependencies,
    principal: Principal,
    *,
    partner_id: UUID | None = None,
    limit: int = 20,
    after: Position | None = None,
) -> tuple[list[EndpointView], Position | None]:
    """A page of endpoints, oldest first, and where the next page starts: the caller's
    partner's, or (operator staff) the named partner's or every partner's of the tenant."""
    whose = access.listed_partner(principal, partner_id)
    async with deps.read_uow(principal.tenant_id) as uow:
        found = await uow.endpoints.page(partner_id=whose, limit=limit + 1, after=after)
    following = found[limit - 1] if len(found) > limit else None
    views = [endpoint_view(each) for each in found[:limit]]
    return views, (following.created_at, following.id) if following else None


async def change_endpoint(
    deps: WebhookDependencies,
    principal: Principal,
    endpoint_id: UUID,
    changes: EndpointChanges,
    *,
    if_match: int | None,
    key: IdempotencyKey | None = None,
) -> Answer[EndpointView]:
    """Changes an endpoint, naming the version read (If-Match); a new URL is checked again."""
    if if_match is None:
        raise PreconditionRequired("A change names the version it changes (If-Match).")
    principal.require_scope(access.WRITE)
    if changes.event_types is not None:
        chosen = event_filter(changes.event_types, PUBLIC_EVENT_TYPES)
        changes = replace(changes, event_types=chosen)
    if changes.url is not None:
        await _check_reach(deps, changes.url)

    async def work(uow: WebhookUnitOfWork) -> EndpointView:
        current = await _locked(uow, principal, endpoint_id, if_match)
        if changes.sets_nothing:
            return endpoint_view(current)
        changed = current.changed(changes, deps.clock.now())
        await uow.endpoints.save(changed)
        if current.enabled and not changed.enabled:
            await _announce_disabled(uow, changed)
        return endpoint_view(changed)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=EndpointView)


async def disable_endpoint(
    deps: WebhookDependencies,
    principal: Principal,
    endpoint_id: UUID,
    reason: str | None = None,
    *,
    if_match: int | None = None,
    key: IdempotencyKey | None = None,
) -> Answer[EndpointView]:
    """Stops an endpoint's deliveries; one disabled already is answered as it is."""
    principal.require_scope(access.WRITE)

    async def work(uow: WebhookUnitOfWork) -> EndpointView:
        current = await _locked(uow, principal, endpoint_id, if_match)
        disabled = current.disabled(reason, deps.clock.now())
        if disabled is not current:
            await uow.endpoints.save(disabled)
            await _announce_disabled(uow, disabled)
        return endpoint_view(disabled)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=EndpointView)


async def disable_gone_endpoint(uow: WebhookUnitOfWork, endpoint_id: UUID, now: datetime) -> None:
    """Stops the deliveries of an endpoint that answered 410 Gone (the receiver's way of
    saying it wants none), in the transaction that records that answer."""
    current = await uow.endpoints.get(endpoint_id, for_update=True)
    if current is None or not current.enabled:
        return
    disabled = current.disabled(_GONE, now)
    await uow.endpoints.save(disabled)
    await _announce_disabled(uow, disabled, DisabledCause.GONE)


async def rotate_secret(
    deps: WebhookDependencies,
    principal: Principal,
    endpoint_id: UUID,
    overlap: timedelta,
    *,
    if_match: int | None = None,
    key: IdempotencyKey | None = None,
) -> Answer[EndpointWithSecretView]:
    """A new signing secret, shown in this answer only; the secrets before it keep signing
    beside it for `overlap` (none: they stop now)."""
    principal.require_scope(access.WRITE)

    async def work(uow: WebhookUnitOfWork) -> EndpointWithSecretView:
        current = await _locked(uow, principal, endpoint_id, if_match)
        now = deps.clock.now()
        new = SigningSecret.generate(now)
        rotated = current.rotated(new, overlap, now)
        await uow.endpoints.save(rotated)
        event = WebhookSecretRotated(
            **_identity(uow, rotated), secret_id=new.id, previous_until=now + overlap
        )
        await uow.publish(event, subject=str(rotated.id))
        return endpoint_with_secret_view(rotated, new)

    return await idempotently(
        deps.uow(principal.tenant_id), key, work, answer_type=EndpointWithSecretView
    )


async def _check_reach(deps: WebhookDependencies, url: str) -> None:
    """Refuses a URL deliveries may not reach (EndpointRefused, 422, saying why)."""
    local = deps.allow_local_endpoints
    await check_endpoint_url(
        checked_url(url), resolve=deps.resolve, allow_loopback=local, require_https=not local
    )


async def _locked(
    uow: WebhookUnitOfWork, principal: Principal, endpoint_id: UUID, if_match: int | None
) -> Endpoint:
    found = await uow.endpoints.get(endpoint_id, for_update=True)
    current = _visible(principal, found, scope=access.WRITE)
    if if_match is not None and if_match != current.version:
        raise PreconditionFailed(
            f"The endpoint is at version {current.version}, not {if_match}: read it again."
        )
    return current


def _visible(principal: Principal, found: Endpoint | None, *, scope: str) -> Endpoint:
    if found is None:
        raise NotFound("No such endpoint.")
    access.require_visible(principal, found.partner_id, scope=scope)
    return found


async def _announce_disabled(
    uow: WebhookUnitOfWork, disabled: Endpoint, cause: DisabledCause = DisabledCause.REQUESTED
) -> None:
    event = WebhookEndpointDisabled(**_identity(uow, disabled), cause=cause)
    await uow.publish(event, subject=str(disabled.id))


def _identity(uow: WebhookUnitOfWork, endpoint: Endpoint) -> dict[str, object]:
    return {
        "tenant_id": uow.tenant_id,
        "endpoint_id": endpoint.id,
        "partner_id": endpoint.partner_id,
        "host": endpoint.host,
        "version": endpoint.version,
    }
