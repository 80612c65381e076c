"""On the real PostgreSQL: key rotation and re-encryption; concurrent idempotent requests."""

from __future__ import annotations

import asyncio
import base64
import secrets
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import pytest
from asyncpg import Connection
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_partners.adapters.protection import Column
from mandi_partners.config import Settings
from mandi_partners.entrypoints.service import DEFINITION
from mandi_partners.service_layer import partners
from mandi_partners.service_layer.verifying import reseal_all
from mandi_runtime import running
from mandi_security.fields import keyring_from_setting
from mandi_security.principal import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase


def _staff() -> Principal:
    return Principal(uuid4(), "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))


def _with_keys(settings: Settings, keyring: str) -> Settings:
    return settings.model_copy(update={"field_keys": SecretStr(keyring)})


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _format_1(keyring: str, value: str, column: str) -> bytes:
    # A ciphertext as the format-1 cipher made it (bound to the column only), under the first key.
    key_id, key = next(iter(keyring_from_setting(keyring).items()))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), column.encode())
    return bytes([1, len(key_id)]) + key_id.encode() + nonce + sealed


_SEALED_VALUES = """
    SELECT value_sealed AS sealed FROM partner_tax_ids UNION ALL
    SELECT name_sealed FROM partner_contacts UNION ALL
    SELECT email_sealed FROM partner_contacts UNION ALL
    SELECT phone_sealed FROM partner_contacts UNION ALL
    SELECT decode(response ->> 'sealed', 'base64') FROM idempotency_keys
"""
_SEALED_ROWS = """
    SELECT (SELECT count(*) FROM partner_tax_ids) + (SELECT count(*) FROM partner_contacts)
        + (SELECT count(*) FROM idempotency_keys WHERE response IS NOT NULL)
"""


async def _as_superuser(infrastructure: Infrastructure, database: TestDatabase) -> Connection:
    # Row-level security does not bind the superuser: it sees every tenant's rows.
    admin = urlsplit(infrastructure.postgres_admin_url)
    return await asyncpg.connect(urlunsplit(admin._replace(path=f"/{database.name}")))


async def _formats(infrastructure: Infrastructure, database: TestDatabase) -> set[tuple[int, str]]:
    """The (format, key id) of every sealed value in the database, idempotent answers included."""
    connection = await _as_superuser(infrastructure, database)
    try:
        rows = await connection.fetch(_SEALED_VALUES)
    finally:
        await connection.close()
    sealed = [bytes(row["sealed"]) for row in rows if row["sealed"] is not None]
    return {(value[0], value[2 : 2 + value[1]].decode()) for value in sealed}


async def _sealed_rows(infrastructure: Infrastructure, database: TestDatabase) -> int:
    connection = await _as_superuser(infrastructure, database)
    try:
        return int(await connection.fetchval(_SEALED_ROWS))
    finally:
        await connection.close()


async def _store_as_owner(database: TestDatabase, tenant_id: UUID, sql: str, *args: object) -> None:
    # As the owner role, whom row-level security binds too (FORCE): inside the tenant's rows.
    connection = await asyncpg.connect(database.owner_url)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            await connection.execute(sql, *args)
    finally:
        await connection.close()


@pytest.mark.integration
async def test_rotate_reseal_and_drop_the_old_key_and_every_read_and_replay_still_works(
    new_registration, settings: Settings, infrastructure: Infrastructure, database: TestDatabase
) -> None:
    old, new = settings.secret("field_keys"), _key("k2")
    staff, command = _staff(), new_registration()
    key = IdempotencyKey(staff.principal_id, "rotate-1", request_fingerprint("POST", "/", b"r"))
    async with running(DEFINITION, settings, background=False) as service:
        registered = await partners.register(service.deps, staff, command, key)
    # A contact's name as databases sealed it before rows were bound (format 1, column only).
    legacy = _format_1(old, "Asha Rao", Column.NAME)
    await _store_as_owner(
        database, staff.tenant_id, "UPDATE partner_contacts SET name_sealed = $1", legacy
    )
    assert (1, "k1") in await _formats(infrastructure, database)
    stale_rows = await _sealed_rows(infrastructure, database)

    async with running(
        DEFINITION, _with_keys(settings, f"{old},{new}"), background=False
    ) as service:
        before = await partners.get_partner(service.deps, staff, registered.view.id)
        resealed = await reseal_all(service.deps, batch_size=2)
    assert before.contacts == registered.view.contacts  # format 1 still opens
    assert resealed == stale_rows  # every tax id, contact and stored answer, in batches of two
    assert await _formats(infrastructure, database) == {(2, "k2")}

    async with running(DEFINITION, _with_keys(settings, new), background=False) as service:
        again = await partners.get_partner(service.deps, staff, registered.view.id)
        replay = await partners.register(service.deps, staff, command, key)
        assert await reseal_all(service.deps, batch_size=2) == 0
    assert again.tax_ids == registered.view.tax_ids
    assert again.contacts == registered.view.contacts
    assert replay.replayed
    assert replay.view == registered.view


@pytest.mark.integration
async def test_concurrent_requests_with_one_key_do_the_work_once(
    new_registration, settings: Settings
) -> None:
    staff = _staff()
    command = new_registration()
    key = IdempotencyKey(staff.principal_id, "k-1", request_fingerprint("POST", "/", b"same"))
    async with running(DEFINITION, settings, background=False) as service:
        outcomes = await asyncio.gather(
            *(partners.register(service.deps, staff, command, key) for _ in range(4))
        )
    assert len({outcome.view.id for outcome in outcomes}) == 1
    assert sorted(outcome.replayed for outcome in outcomes) == [False, True, True, True]
