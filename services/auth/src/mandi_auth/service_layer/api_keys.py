"""API keys: issued to a partner's integration, listed, rotated with an overlap, revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from mandi_auth.domain.api_keys import (
    ApiKey,
    KeyMaterial,
    limit_settable,
    plan_choosable,
    scopes_grantable,
)
from mandi_auth.domain.limits import Limit
from mandi_auth.service_layer.dependencies import DEFAULT_PLAN, AuthDependencies
from mandi_auth.service_layer.unit_of_work import AuthUnitOfWork
from mandi_contracts.auth import ApiKeyIssued, ApiKeyRevoked, ApiKeyRotated
from mandi_errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mandi_security.principal import Principal

__all__ = [
    "IssueApiKey",
    "IssuedKey",
    "issue_api_key",
    "list_api_keys",
    "revoke_api_key",
    "rotate_api_key",
]


@dataclass(frozen=True)
class IssueApiKey:
    """A key for a partner's integration (no partner: the operator's own integration)."""

    name: str
    scopes: frozenset[str]
    partner_id: UUID | None = None
    plan: str = "standard"
    expires_at: datetime | None = None
    limit: Limit | None = None  # the key's own, instead of its plan's


@dataclass(frozen=True)
class IssuedKey:
    """A key and its full value, which is shown this once and never again."""

    key: ApiKey
    value: str


def _partner_for(principal: Principal, requested: UUID | None) -> UUID | None:
    if principal.is_internal:
        return requested
    if requested not in (None, principal.partner_id):
        raise PermissionDenied("A partner's keys are for that partner only.")
    return principal.partner_id


def _new_key(deps: AuthDependencies, principal: Principal, command: IssueApiKey) -> IssuedKey:
    now = deps.clock.now()
    if command.expires_at is not None and command.expires_at <= now:
        raise InvalidInput("A key's expiry must be in the future.")
    deps.limits.plan(command.plan)
    material = KeyMaterial.generate(deps.key_environment)
    key = ApiKey(
        id=material.key_id,
        tenant_id=principal.tenant_id,
        partner_id=_partner_for(principal, command.partner_id),
        name=command.name,
        scopes=scopes_grantable(principal, command.scopes),
        secret_hash=deps.key_hasher.digest(material.secret),
        visible_prefix=material.visible_prefix,
        created_by=principal.principal_id,
        created_at=now,
        plan=command.plan,
        limit=limit_settable(principal, command.limit),
        expires_at=command.expires_at,
    )
    return IssuedKey(key=key, value=material.value)


async def _store(uow: AuthUnitOfWork, key: ApiKey) -> None:
    await uow.credentials.add(key.id, key.tenant_id)
    await uow.api_keys.add(key)


async def issue_api_key(
    deps: AuthDependencies, principal: Principal, command: IssueApiKey
) -> IssuedKey:
    """A new key; its scopes never exceed the issuer's, nor a partner's keys the cap."""
    principal.require_scope("auth:write")
    plan_choosable(principal, command.plan, DEFAULT_PLAN)
    issued = _new_key(deps, principal, command)
    async with deps.uow(principal.tenant_id) as uow:
        await _refuse_beyond_the_cap(deps, uow, issued.key.partner_id)
        await _store(uow, issued.key)
        await uow.publish(_issued_event(issued.key), subject=str(issued.key.id))
        await uow.commit()
    return issued


async def _refuse_beyond_the_cap(
    deps: AuthDependencies, uow: AuthUnitOfWork, partner_id: UUID | None
) -> None:
    # Every key of a partner adds to what it may send; the partner's bucket bounds the rate,
    # the cap bounds the keys to watch and revoke. Rotation replaces a key and is not counted.
    if partner_id is None:
        return
    await uow.api_keys.lock_partner(partner_id)  # two issues racing count one after the other
    cap = deps.limits.max_keys_per_partner
    if await uow.api_keys.count_valid(partner_id, deps.clock.now()) >= cap:
        raise Conflict(f"This partner has {cap} valid API keys, the most allowed: revoke one.")


async def list_api_keys(
    deps: AuthDependencies, principal: Principal, partner_id: UUID | None
) -> list[ApiKey]:
    """The keys of a partner (an external principal sees its own partner's only)."""
    principal.require_scope("auth:read")
    async with deps.uow(principal.tenant_id) as uow:
        keys = await uow.api_keys.of_partner(_partner_for(principal, partner_id))
    return [key for key in keys if key.manageable_by(principal)]


async def _manageable(uow: AuthUnitOfWork, principal: Principal, key_id: UUID) -> ApiKey:
    key = await uow.api_keys.get(key_id)
    if key is None or not key.manageable_by(principal):
        raise NotFound("No such API key.")
    return key


async def rotate_api_key(
    deps: AuthDependencies, principal: Principal, key_id: UUID
) -> tuple[IssuedKey, datetime]:
    """A successor key; the old one stays valid for the overlap so clients can switch."""
    principal.require_scope("auth:write")
    async with deps.uow(principal.tenant_id) as uow:
        old = await _manageable(uow, principal, key_id)
        if not old.is_valid_at(deps.clock.now()):
            raise Conflict("Only a key still valid can be rotated.")
        # The successor inherits the old key's limit as it is, whoever rotates it.
        command = IssueApiKey(old.name, old.scopes, old.partner_id, old.plan, old.expires_at)
        issued = _new_key(deps, principal, command)
        issued.key.limit = old.limit
        old_until = old.end_after_overlap(
            deps.clock.now(), deps.key_rotation_overlap, issued.key.id
        )
        await _store(uow, issued.key)
        await uow.api_keys.save(old)
        await uow.publish(
            _rotated_event(old, issued.key, old_until, principal), subject=str(old.id)
        )
        await uow.commit()
    deps.api_keys.forget(old.id)
    return issued, old_until


async def revoke_api_key(deps: AuthDependencies, principal: Principal, key_id: UUID) -> ApiKey:
    """Refused by the gateway from now on (within the directory's cache time, under a second)."""
    principal.require_scope("auth:write")
    async with deps.uow(principal.tenant_id) as uow:
        key = await _manageable(uow, principal, key_id)
        key.revoke(deps.clock.now())
        await uow.api_keys.save(key)
        event = ApiKeyRevoked(
            tenant_id=key.tenant_id, key_id=key.id, revoked_by=principal.principal_id
        )
        await uow.publish(event, subject=str(key.id))
        await uow.commit()
    deps.api_keys.forget(key.id)
    return key


def _issued_event(key: ApiKey) -> ApiKeyIssued:
    return ApiKeyIssued(
        tenant_id=key.tenant_id,
        key_id=key.id,
        partner_id=key.partner_id,
        scopes=sorted(key.scopes),
        expires_at=key.expires_at,
        issued_by=key.created_by,
    )


def _rotated_event(
    old: ApiKey, new: ApiKey, until: datetime, principal: Principal
) -> ApiKeyRotated:
    return ApiKeyRotated(
        tenant_id=old.tenant_id,
        old_key_id=old.id,
        new_key_id=new.id,
        old_key_valid_until=until,
        rotated_by=principal.principal_id,
    )
