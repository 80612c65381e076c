"""On the real PostgreSQL: a partner's own staff amending their application with a tax id another
partner holds are answered as for any other tax id; the operator's staff are refused (409)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import pytest

from mandi_errors import Conflict
from mandi_partners.config import Settings
from mandi_partners.domain.partner import TAX_ID_CONTESTED, Partner, PartnerChanges, PartnerType
from mandi_partners.domain.tax_ids import TaxId, TaxIdKind, parse_tax_id
from mandi_partners.entrypoints.service import DEFINITION, PartnersRunning
from mandi_partners.service_layer import partners
from mandi_runtime import running
from mandi_security.principal import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase

pytestmark = pytest.mark.integration


def _pan() -> TaxId:
    letters = "".join(secrets.choice("ABDEGHKMNPRSTUWXYZ") for _ in range(5))
    value = f"{letters[:3]}C{letters[3]}{1000 + secrets.randbelow(8999)}{letters[4]}"
    return parse_tax_id(TaxIdKind.PAN, "IN", value)


def _staff(tenant: UUID) -> Principal:
    return Principal(tenant, "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))


def _own_staff(tenant: UUID, partner_id: UUID) -> Principal:
    scopes = frozenset({"partners:read", "partners:write"})
    return Principal(tenant, "ops-1", PrincipalType.EXTERNAL, partner_id, scopes)


def _company(pan: TaxId) -> partners.RegisterPartner:
    return partners.RegisterPartner(
        legal_name=f"Acme {uuid4().hex[:6]} Ltd",
        country="IN",
        types=frozenset({PartnerType.SELLER}),
        tax_ids=(pan,),
    )


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[PartnersRunning]:
    """The service's use cases on this module's database, without background jobs."""
    async with running(DEFINITION, settings, background=False) as started:
        yield started


async def _registered(service: PartnersRunning, tenant: UUID, pan: TaxId) -> UUID:
    outcome = await partners.register(service.deps, _staff(tenant), _company(pan))
    return outcome.view.id


async def _amend_tax_ids(
    service: PartnersRunning, principal: Principal, partner_id: UUID, pan: TaxId
) -> dict[str, object]:
    changes = PartnerChanges(tax_ids=(pan,))
    outcome = await partners.amend(service.deps, principal, partner_id, changes, if_match=1)
    return outcome.view.model_dump(mode="json")


async def test_partner_staff_are_answered_alike_whether_another_partner_holds_the_tax_id(
    service: PartnersRunning,
) -> None:
    tenant = uuid4()
    held = _pan()
    holder = await _registered(service, tenant, held)
    free_id = await _registered(service, tenant, _pan())
    contested_id = await _registered(service, tenant, _pan())

    free = await _amend_tax_ids(service, _own_staff(tenant, free_id), free_id, _pan())
    contested = await _amend_tax_ids(service, _own_staff(tenant, contested_id), contested_id, held)

    different = {"id", "legal_name", "tax_ids", "created_at", "updated_at"}
    assert {k: v for k, v in free.items() if k not in different} == {
        k: v for k, v in contested.items() if k not in different
    }
    assert [set(tax_id) for tax_id in contested["tax_ids"]] == [{"kind", "country", "masked"}]
    seen_by_staff = await partners.get_partner(service.deps, _staff(tenant), contested_id)
    assert seen_by_staff.model_dump()["risk_flags"] == [TAX_ID_CONTESTED]
    assert seen_by_staff.model_dump()["tax_ids"][0]["contested"] is True
    untouched = await partners.get_partner(service.deps, _staff(tenant), holder)
    assert untouched.model_dump()["tax_ids"][0]["contested"] is False
    assert untouched.model_dump()["risk_flags"] == []


async def test_the_operators_staff_are_told_another_partner_holds_the_tax_id(
    service: PartnersRunning,
) -> None:
    tenant = uuid4()
    held = _pan()
    await _registered(service, tenant, held)
    applicant = await _registered(service, tenant, _pan())
    with pytest.raises(Conflict, match="Another partner"):
        await _amend_tax_ids(service, _staff(tenant), applicant, held)


async def _wait_for_a_lock_wait(infrastructure: Infrastructure, database: TestDatabase) -> None:
    admin = urlsplit(infrastructure.postgres_admin_url)
    connection = await asyncpg.connect(urlunsplit(admin._replace(path=f"/{database.name}")))
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
    try:
        for _ in range(100):
            if await connection.fetchval(query, database.name):
                return
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    pytest.fail("the amendment never waited on the other registration's index entry")


async def test_a_tax_id_registered_while_partner_staff_amend_is_contested_not_refused(
    service: PartnersRunning, infrastructure: Infrastructure, database: TestDatabase
) -> None:
    tenant, pan, now = uuid4(), _pan(), datetime.now(UTC)
    applicant = await _registered(service, tenant, _pan())
    holder = Partner(
        id=uuid4(),
        tenant_id=tenant,
        legal_name="Holder Ltd",
        country="IN",
        types=frozenset({PartnerType.BUYER}),
        tax_ids=(pan,),
        created_at=now,
        updated_at=now,
    )
    async with service.deps.uow(tenant) as uow:
        await uow.partners.add(holder)  # its index entry exists, uncommitted
        amending = asyncio.create_task(
            _amend_tax_ids(service, _own_staff(tenant, applicant), applicant, pan)
        )
        await _wait_for_a_lock_wait(infrastructure, database)  # the check found no holder
        await uow.commit()
    answer = await amending
    assert answer["version"] == 2
    seen_by_staff = await partners.get_partner(service.deps, _staff(tenant), applicant)
    assert seen_by_staff.model_dump()["tax_ids"][0]["contested"] is True
