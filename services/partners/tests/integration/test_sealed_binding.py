"""On the real PostgreSQL: a sealed value moved to another row or tenant does not open.

Rows are changed as the database owner would (by SQL, under row-level security), then read back
through the service: the repository refuses the moved value instead of showing it as another's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_partners.config import Settings
from mandi_partners.entrypoints.service import DEFINITION
from mandi_partners.service_layer import partners
from mandi_runtime import running
from mandi_security.principal import Principal, PrincipalType
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration

# Both tax ids move together: a GSTIN holds its PAN, so one moved alone would not even agree.
_TAX_IDS = [
    (
        "SELECT value_sealed FROM partner_tax_ids WHERE partner_id = $1 AND kind = 'pan'",
        "UPDATE partner_tax_ids SET value_sealed = $2 WHERE partner_id = $1 AND kind = 'pan'",
    ),
    (
        "SELECT value_sealed FROM partner_tax_ids WHERE partner_id = $1 AND kind = 'gstin'",
        "UPDATE partner_tax_ids SET value_sealed = $2 WHERE partner_id = $1 AND kind = 'gstin'",
    ),
]
_EMAILS = [
    (
        "SELECT email_sealed FROM partner_contacts WHERE partner_id = $1",
        "UPDATE partner_contacts SET email_sealed = $2 WHERE partner_id = $1",
    )
]
_ANSWERS = [
    (
        "SELECT response FROM idempotency_keys WHERE key = $1",
        "UPDATE idempotency_keys SET response = $2::jsonb WHERE key = $1",
    )
]


def _staff(tenant_id: UUID) -> Principal:
    return Principal(tenant_id, "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))


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


async def _copy(
    database: TestDatabase,
    source: tuple[UUID, object],
    target: tuple[UUID, object],
    statements: list[tuple[str, str]],
) -> None:
    """Copies stored values from one row to another, as the owner (tenant, row key each)."""
    for read, write in statements:
        async with _as_owner(database, source[0]) as connection:
            value = await connection.fetchval(read, source[1])
        async with _as_owner(database, target[0]) as connection:
            assert await connection.execute(write, target[1], value) == "UPDATE 1"


@pytest.mark.parametrize("statements", [_TAX_IDS, _EMAILS], ids=["tax ids", "contact email"])
@pytest.mark.parametrize("elsewhere", ["another row", "another tenant"])
async def test_a_sealed_value_copied_into_another_row_does_not_open(
    new_registration,
    settings: Settings,
    database: TestDatabase,
    statements: list[tuple[str, str]],
    elsewhere: str,
) -> None:
    tenant = uuid4()
    target_tenant = tenant if elsewhere == "another row" else uuid4()
    async with running(DEFINITION, settings, background=False) as service:
        source = await partners.register(service.deps, _staff(tenant), new_registration())
        target = await partners.register(service.deps, _staff(target_tenant), new_registration())
        await _copy(database, (tenant, source.view.id), (target_tenant, target.view.id), statements)
        with pytest.raises(InvalidTag):
            await partners.get_partner(service.deps, _staff(target_tenant), target.view.id)
        untouched = await partners.get_partner(service.deps, _staff(tenant), source.view.id)
    assert untouched == source.view


async def test_a_stored_answer_copied_under_another_key_is_not_replayed(
    new_registration, settings: Settings, database: TestDatabase
) -> None:
    staff = _staff(uuid4())
    first, second = new_registration(), new_registration()
    key_of = {
        name: IdempotencyKey(staff.principal_id, name, request_fingerprint("POST", "/", body))
        for name, body in (("first", b"1"), ("second", b"2"))
    }
    async with running(DEFINITION, settings, background=False) as service:
        await partners.register(service.deps, staff, first, key_of["first"])
        await partners.register(service.deps, staff, second, key_of["second"])
        tenant = staff.tenant_id
        await _copy(database, (tenant, "first"), (tenant, "second"), _ANSWERS)
        with pytest.raises(InvalidTag):
            await partners.register(service.deps, staff, second, key_of["second"])
