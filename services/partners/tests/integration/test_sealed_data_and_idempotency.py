"""On the real PostgreSQL: re-encryption under a new field key; concurrent idempotent requests."""

from __future__ import annotations

import asyncio
import base64
import secrets
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import pytest
from pydantic import SecretStr

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_partners.bootstrap import running_service
from mandi_partners.config import Settings
from mandi_partners.domain.partner import Contact, PartnerType
from mandi_partners.domain.tax_ids import TaxIdKind, gstin_check_character, parse_tax_id
from mandi_partners.service_layer import partners
from mandi_partners.service_layer.verifying import reseal_all
from mandi_security.principal import Principal, PrincipalType
from mandi_testing import Infrastructure, TestDatabase


def _staff() -> Principal:
    return Principal(uuid4(), "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))


def _command() -> partners.RegisterPartner:
    digits = 1000 + secrets.randbelow(8999)
    letters = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
    pan = f"{letters[:3]}C{letters[3]}{digits}{letters[4]}"
    gstin = f"27{pan}1Z"
    return partners.RegisterPartner(
        legal_name=f"Acme {uuid4().hex[:6]} Ltd",
        country="IN",
        types=frozenset({PartnerType.SELLER}),
        tax_ids=(
            parse_tax_id(TaxIdKind.PAN, "IN", pan),
            parse_tax_id(TaxIdKind.GSTIN, "IN", gstin + gstin_check_character(gstin)),
        ),
        contacts=(Contact("Asha Rao", email="asha@acme.example", phone="+919876543210"),),
    )


def _with_keys(settings: Settings, keyring: str) -> Settings:
    return settings.model_copy(update={"field_keys": SecretStr(keyring)})


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


async def _key_ids(infrastructure: Infrastructure, database: TestDatabase) -> set[str]:
    # As the superuser, whom row-level security does not bind: which key sealed each value.
    admin = urlsplit(infrastructure.postgres_admin_url)
    connection = await asyncpg.connect(urlunsplit(admin._replace(path=f"/{database.name}")))
    try:
        rows = await connection.fetch(
            "SELECT value_sealed AS sealed FROM partner_tax_ids UNION ALL "
            "SELECT name_sealed FROM partner_contacts UNION ALL "
            "SELECT email_sealed FROM partner_contacts UNION ALL "
            "SELECT phone_sealed FROM partner_contacts"
        )
    finally:
        await connection.close()
    return {bytes(row["sealed"][2 : 2 + row["sealed"][1]]).decode() for row in rows}


@pytest.mark.integration
async def test_a_new_key_reseals_everything_and_the_old_key_can_then_go(
    settings: Settings, infrastructure: Infrastructure, database: TestDatabase
) -> None:
    old, new = _key("k1"), _key("k2")
    staff = _staff()
    async with running_service(_with_keys(settings, old), background=False) as service:
        registered = await partners.register(service.deps, staff, _command())
    assert await _key_ids(infrastructure, database) == {"k1"}

    async with running_service(_with_keys(settings, f"{old},{new}"), background=False) as service:
        resealed = await reseal_all(service.deps, batch_size=2)
    assert resealed == 3  # two tax ids and one contact
    assert await _key_ids(infrastructure, database) == {"k2"}

    async with running_service(_with_keys(settings, new), background=False) as service:
        again = await partners.get_partner(service.deps, staff, registered.view.id)
    assert again.tax_ids == registered.view.tax_ids
    assert again.contacts == registered.view.contacts


@pytest.mark.integration
async def test_concurrent_requests_with_one_key_do_the_work_once(settings: Settings) -> None:
    staff = _staff()
    command = _command()
    key = IdempotencyKey(staff.principal_id, "k-1", request_fingerprint("POST", "/", b"same"))
    async with running_service(settings, background=False) as service:
        outcomes = await asyncio.gather(
            *(partners.register(service.deps, staff, command, key) for _ in range(4))
        )
    assert len({outcome.view.id for outcome in outcomes}) == 1
    assert sorted(outcome.replayed for outcome in outcomes) == [False, True, True, True]
