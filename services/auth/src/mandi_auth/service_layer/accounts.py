"""Tenants and users: a tenant arrives with its first admin; admins add the others."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from uuid import UUID, uuid4

from mandi_auth.domain.identity import Tenant, User
from mandi_auth.service_layer.dependencies import AuthDependencies
from mandi_contracts.auth import TenantCreated, TenantReactivated, TenantSuspended, UserCreated
from mandi_errors import Conflict, InvalidInput, NotFound, PermissionDenied
from mandi_security.principal import Principal, PrincipalType

__all__ = [
    "CreateTenant",
    "CreateUser",
    "NewTenant",
    "create_tenant",
    "create_user",
    "reactivate_tenant",
    "suspend_tenant",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def _checked_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"A password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
        )
    return password


@dataclass(frozen=True)
class CreateTenant:
    """A tenant and its first admin; without a password one is generated (and shown once)."""

    slug: str
    name: str
    admin_email: str
    admin_password: str | None = None


@dataclass(frozen=True)
class NewTenant:
    """What the operator needs to sign in the first time."""

    tenant_id: UUID
    admin_user_id: UUID
    generated_password: str | None


async def create_tenant(deps: AuthDependencies, command: CreateTenant) -> NewTenant:
    """Creates the tenant and its admin in one transaction; Conflict if the slug is taken."""
    password = command.admin_password or secrets.token_urlsafe(18)
    tenant = Tenant(id=uuid4(), slug=command.slug, name=command.name)
    admin = User(
        id=uuid4(),
        tenant_id=tenant.id,
        email=command.admin_email,
        type=PrincipalType.INTERNAL,
        roles=frozenset({"admin"}),
        password_hash=await deps.passwords.hash(_checked_password(password)),
    )
    async with deps.uow(tenant.id) as uow:
        if await uow.tenants.by_slug(tenant.slug) is not None:
            raise Conflict(f"A tenant named {tenant.slug!r} exists already.")
        await uow.tenants.add(tenant)
        await uow.users.add(admin)
        await uow.publish(
            TenantCreated(tenant_id=tenant.id, slug=tenant.slug), subject=str(tenant.id)
        )
        await uow.publish(_user_created(admin), subject=str(admin.id))
        await uow.commit()
    generated = None if command.admin_password else password
    return NewTenant(tenant_id=tenant.id, admin_user_id=admin.id, generated_password=generated)


async def _tenant_named(deps: AuthDependencies, slug: str) -> Tenant:
    async with deps.directory() as directory:
        tenant = await directory.tenants.by_slug(slug)
    if tenant is None:
        raise NotFound(f"No tenant named {slug!r}.")
    return tenant


async def suspend_tenant(deps: AuthDependencies, slug: str, *, by: str) -> int:
    """Stops a tenant: its sessions end, its users and keys are refused; how many sessions ended.

    The status and the ended refresh tokens commit together; the sessions' access tokens are
    refused right after (the gateway also refuses any credential of a suspended tenant).
    """
    tenant = await _tenant_named(deps, slug)
    async with deps.uow(tenant.id) as uow:
        tenant.suspend()
        await uow.tenants.save(tenant)
        ended = await uow.refresh_tokens.revoke_all(deps.clock.now())
        event = TenantSuspended(tenant_id=tenant.id, sessions_ended=len(ended), suspended_by=by)
        await uow.publish(event, subject=str(tenant.id))
        await uow.commit()
    for session in ended:
        await deps.gatekeeper.revoke_session(session, deps.access_token_lifetime.total_seconds())
    deps.tenant_status.forget(tenant.id)
    return len(ended)


async def reactivate_tenant(deps: AuthDependencies, slug: str, *, by: str) -> None:
    """Lets a suspended tenant act again: its users sign in anew, its keys work again."""
    tenant = await _tenant_named(deps, slug)
    async with deps.uow(tenant.id) as uow:
        tenant.reactivate()
        await uow.tenants.save(tenant)
        await uow.publish(
            TenantReactivated(tenant_id=tenant.id, reactivated_by=by), subject=str(tenant.id)
        )
        await uow.commit()
    deps.tenant_status.forget(tenant.id)


@dataclass(frozen=True)
class CreateUser:
    """A user of the caller's tenant."""

    email: str
    password: str
    type: PrincipalType
    roles: frozenset[str]
    partner_id: UUID | None = None


def _may_create(principal: Principal, command: CreateUser) -> bool:
    if not principal.has_scope("auth:write"):
        return False
    if principal.is_internal:
        return "admin" in principal.roles
    return command.type is PrincipalType.EXTERNAL and command.partner_id == principal.partner_id


async def create_user(deps: AuthDependencies, principal: Principal, command: CreateUser) -> User:
    """Admins add users; a partner's admin adds users of that partner only."""
    if not _may_create(principal, command):
        raise PermissionDenied("You may not create this user.")
    user = User(
        id=uuid4(),
        tenant_id=principal.tenant_id,
        email=command.email,
        type=command.type,
        roles=command.roles,
        partner_id=command.partner_id,
        password_hash=await deps.passwords.hash(_checked_password(command.password)),
    )
    async with deps.uow(principal.tenant_id) as uow:
        if await uow.users.by_email(user.email) is not None:
            raise Conflict("A user with this email exists in this tenant.")
        await uow.users.add(user)
        await uow.publish(_user_created(user), subject=str(user.id))
        await uow.commit()
    return user


def _user_created(user: User) -> UserCreated:
    return UserCreated(
        tenant_id=user.tenant_id,
        user_id=user.id,
        user_type=user.type.value,
        partner_id=user.partner_id,
        roles=sorted(user.roles),
    )
