"""On the real PostgreSQL: a sealed email moved to another user's row or tenant does not open.

Rows are changed as the database owner would (by SQL, under row-level security), then read back
through the repository, which refuses the moved email instead of showing it as another user's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag

from mandi_auth.entrypoints.commands import AuthRunning
from mandi_auth.service_layer import accounts
from mandi_security.principal import Principal, PrincipalType
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
_EMAIL_OF = "SELECT email_sealed FROM users WHERE id = $1"
_SET_EMAIL = "UPDATE users SET email_sealed = $2 WHERE id = $1"


async def _tenant(service: AuthRunning) -> tuple[UUID, UUID, UUID]:
    """A new tenant with its admin and one more user: (tenant, admin, user)."""
    slug = f"t-{uuid.uuid4().hex[:10]}"
    command = accounts.CreateTenant(slug, slug, f"admin@{slug}.example", PASSWORD)
    created = await accounts.create_tenant(service.deps, command)
    admin = Principal(
        tenant_id=created.tenant_id,
        principal_id=str(created.admin_user_id),
        type=PrincipalType.INTERNAL,
        scopes=frozenset({"*"}),
        roles=frozenset({"admin"}),
    )
    colleague = accounts.CreateUser(
        f"clerk@{slug}.example", PASSWORD, PrincipalType.INTERNAL, frozenset({"auditor"})
    )
    user = await accounts.create_user(service.deps, admin, colleague)
    return created.tenant_id, created.admin_user_id, user.id


@asynccontextmanager
async def _as_owner(database: TestDatabase, tenant_id: UUID) -> AsyncIterator[asyncpg.Connection]:
    # The owner role is bound by row-level security too (FORCE): it works inside one tenant.
    connection = await asyncpg.connect(database.owner_url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            yield connection
    finally:
        await connection.close()


@pytest.mark.parametrize("elsewhere", ["another row", "another tenant"])
async def test_an_email_copied_into_another_users_row_does_not_open(
    service: AuthRunning, database: TestDatabase, elsewhere: str
) -> None:
    tenant, admin, colleague = await _tenant(service)
    target_tenant, target = (
        (tenant, colleague) if elsewhere == "another row" else (await _tenant(service))[:2]
    )
    async with _as_owner(database, tenant) as connection:
        sealed = await connection.fetchval(_EMAIL_OF, admin)
    async with _as_owner(database, target_tenant) as connection:
        assert await connection.execute(_SET_EMAIL, target, sealed) == "UPDATE 1"

    async with service.deps.uow(target_tenant) as uow:
        with pytest.raises(InvalidTag):
            await uow.users.get(target)
    async with service.deps.uow(tenant) as uow:
        untouched = await uow.users.get(admin)
    assert untouched is not None
    assert untouched.email.startswith("admin@")
