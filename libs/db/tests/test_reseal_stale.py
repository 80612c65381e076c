"""SqlRepository's re-encryption of SealedColumns under the newest key, on the real PostgreSQL."""

from __future__ import annotations

import os
from uuid import UUID, uuid4

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import Column, LargeBinary, MetaData, Table, Uuid, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import (
    SealedColumn,
    SqlRepository,
    TenantAwareSession,
    UnitOfWork,
    enable_tenant_isolation,
)
from mandi_security import FieldCipher

pytestmark = pytest.mark.integration

OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)
OLD = FieldCipher({"2025-01": OLD_KEY}, current="2025-01")
NEW = FieldCipher({"2025-01": OLD_KEY, "2026-01": NEW_KEY}, current="2026-01")

metadata = MetaData()
contacts = Table(
    "contacts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("phone_sealed", LargeBinary, nullable=True),
)
NAME = SealedColumn(contacts.c.name_sealed, "contacts.name")
PHONE = SealedColumn(contacts.c.phone_sealed, "contacts.phone")
CONTACTS_TABLE = """
    CREATE TABLE contacts (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name_sealed bytea NOT NULL,
        phone_sealed bytea
    )
"""


class SqlContacts(SqlRepository):
    """A repository of contacts whose name and phone are sealed."""

    async def reseal(self, cipher: FieldCipher, limit: int) -> int:
        """Re-encrypts up to `limit` contacts sealed with an older key."""
        return await self._reseal_stale(cipher, contacts, [NAME, PHONE], limit)


SCHEMA = [CONTACTS_TABLE, *enable_tenant_isolation("contacts")]


def _seal(
    cipher: FieldCipher, column: SealedColumn, value: str | None, tenant: UUID, row_id: UUID
) -> bytes | None:
    return None if value is None else cipher.encrypt(value, context=column.of(tenant, row_id))


async def _add_contact(
    sessions: async_sessionmaker[TenantAwareSession],
    tenant: UUID,
    cipher: FieldCipher,
    name: str,
    phone: str | None,
) -> UUID:
    row_id = uuid4()
    values = {
        "id": row_id,
        "tenant_id": tenant,
        "name_sealed": _seal(cipher, NAME, name, tenant, row_id),
        "phone_sealed": _seal(cipher, PHONE, phone, tenant, row_id),
    }
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        await (await uow.session.connection()).execute(contacts.insert().values(values))
        await uow.commit()
    return row_id


async def _sealed(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> dict[UUID, tuple[bytes, bytes | None]]:
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        rows = await (await uow.session.connection()).execute(select(contacts))
        return {row.id: (row.name_sealed, row.phone_sealed) for row in rows}


async def _reseal(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID, limit: int = 100
) -> int:
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        done = await SqlContacts(uow.session).reseal(NEW, limit)
        await uow.commit()
    return done


def _opened(tenant: UUID, row_id: UUID, sealed: tuple[bytes, bytes | None]) -> tuple[str, ...]:
    name, phone = sealed
    opened = [NEW.decrypt(name, context=NAME.of(tenant, row_id))]
    if phone is not None:
        opened.append(NEW.decrypt(phone, context=PHONE.of(tenant, row_id)))
    return tuple(opened)


async def test_values_sealed_with_an_old_key_are_resealed_under_the_newest_and_still_open(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    ravi = await _add_contact(sessions, tenant, OLD, "Ravi Kumar", "+91 98450 12345")
    asha = await _add_contact(sessions, tenant, OLD, "Asha Rao", None)

    assert await _reseal(sessions, tenant) == 2

    sealed = await _sealed(sessions, tenant)
    assert _opened(tenant, ravi, sealed[ravi]) == ("Ravi Kumar", "+91 98450 12345")
    assert _opened(tenant, asha, sealed[asha]) == ("Asha Rao",)
    assert sealed[asha][1] is None, "a NULL stays NULL"
    for name, phone in sealed.values():
        assert not NEW.needs_rotation(name)
        assert phone is None or not NEW.needs_rotation(phone)
    with pytest.raises(ValueError, match="no key '2026-01'"):
        OLD.decrypt(sealed[ravi][0], context=NAME.of(tenant, ravi))


async def test_values_already_under_the_newest_key_are_not_touched(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    current = await _add_contact(sessions, tenant, NEW, "Meera Iyer", "+91 99000 11111")
    no_phone = await _add_contact(sessions, tenant, NEW, "Vikram Shah", None)
    half_stale = await _add_contact(sessions, tenant, NEW, "Kiran Das", None)
    stale_phone = OLD.encrypt("+91 90000 22222", context=PHONE.of(tenant, half_stale))
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        change = update(contacts).where(contacts.c.id == half_stale)
        await (await uow.session.connection()).execute(change.values(phone_sealed=stale_phone))
        await uow.commit()
    before = await _sealed(sessions, tenant)

    assert await _reseal(sessions, tenant) == 1, "only the row with a stale value"

    after = await _sealed(sessions, tenant)
    assert after[current] == before[current]
    assert after[no_phone] == before[no_phone]
    assert after[half_stale][0] == before[half_stale][0], "its current name is left as it was"
    assert after[half_stale][1] != stale_phone
    assert _opened(tenant, half_stale, after[half_stale]) == ("Kiran Das", "+91 90000 22222")
    assert await _reseal(sessions, tenant) == 0


async def test_a_batch_reseals_at_most_its_limit_and_repeated_batches_finish(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    for n in range(5):
        await _add_contact(sessions, tenant, OLD, f"Trader {n}", f"+91 90000 0000{n}")

    batches = [await _reseal(sessions, tenant, limit=2) for _ in range(4)]

    assert batches == [2, 2, 1, 0]
    sealed = await _sealed(sessions, tenant)
    assert all(not NEW.needs_rotation(name) for name, _ in sealed.values())
    names = {_opened(tenant, row_id, values)[0] for row_id, values in sealed.items()}
    assert names == {f"Trader {n}" for n in range(5)}


async def test_a_resealed_value_copied_to_another_row_or_column_does_not_open(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    ravi = await _add_contact(sessions, tenant, OLD, "Ravi Kumar", "+91 98450 12345")
    asha = await _add_contact(sessions, tenant, OLD, "Asha Rao", "+91 98450 67890")
    await _reseal(sessions, tenant)
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        ravis_name = select(contacts.c.name_sealed).where(contacts.c.id == ravi).scalar_subquery()
        copy = update(contacts).where(contacts.c.id == asha).values(name_sealed=ravis_name)
        await (await uow.session.connection()).execute(copy)
        await uow.commit()

    copied, _ = (await _sealed(sessions, tenant))[asha]

    assert NEW.decrypt(copied, context=NAME.of(tenant, ravi)) == "Ravi Kumar"
    with pytest.raises(InvalidTag):
        NEW.decrypt(copied, context=NAME.of(tenant, asha))
    with pytest.raises(InvalidTag):
        NEW.decrypt(copied, context=PHONE.of(tenant, ravi))
    with pytest.raises(InvalidTag):
        NEW.decrypt(copied, context=NAME.of(uuid4(), ravi))


async def test_a_stale_value_copied_to_another_row_is_refused_not_resealed_into_it(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    ravi = await _add_contact(sessions, tenant, OLD, "Ravi Kumar", None)
    asha = await _add_contact(sessions, tenant, OLD, "Asha Rao", None)
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        ravis_name = select(contacts.c.name_sealed).where(contacts.c.id == ravi).scalar_subquery()
        copy = update(contacts).where(contacts.c.id == asha).values(name_sealed=ravis_name)
        await (await uow.session.connection()).execute(copy)
        await uow.commit()
    before = await _sealed(sessions, tenant)

    with pytest.raises(InvalidTag):
        await _reseal(sessions, tenant)

    assert await _sealed(sessions, tenant) == before, "the failed batch changed nothing"
