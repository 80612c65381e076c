"""On the real PostgreSQL: rotate the keyrings, re-encrypt, drop the old keys; all still works.

`field_keys` seals users' emails and `key_encryption_keys` the private signing keys. Values sealed
before rows were bound (format 1, column only), as older databases hold them, are upgraded too.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from mandi_auth.config import Settings
from mandi_auth.entrypoints.service import DEFINITION
from mandi_auth.service_layer import accounts, sessions
from mandi_auth.service_layer.resealing import reseal_all
from mandi_runtime import running
from mandi_security.fields import FieldCipher, SealedField, keyring_from_setting
from mandi_testing import Infrastructure, TestDatabase

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
_PRIVATE_KEY_COLUMN = "signing_keys.private_key"
_SEALED_VALUES = (
    "SELECT email_sealed AS sealed FROM users UNION ALL SELECT sealed_private_key FROM signing_keys"
)
_SEALED_ROWS = "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM signing_keys)"


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _with_keys(settings: Settings, fields: str, key_encryption: str) -> Settings:
    keys = {"field_keys": SecretStr(fields), "key_encryption_keys": SecretStr(key_encryption)}
    return settings.model_copy(update=keys)


def _format_1(keyring: str, value: str, column: str) -> bytes:
    # A ciphertext as the format-1 cipher made it (bound to the column only), under the first key.
    key_id, key = next(iter(keyring_from_setting(keyring).items()))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), column.encode())
    return bytes([1, len(key_id)]) + key_id.encode() + nonce + sealed


async def _as_superuser(
    infrastructure: Infrastructure, database: TestDatabase
) -> asyncpg.Connection:
    # Row-level security does not bind the superuser: it sees every tenant's rows.
    admin = urlsplit(infrastructure.postgres_admin_url)
    return await asyncpg.connect(urlunsplit(admin._replace(path=f"/{database.name}")))


async def _formats(infrastructure: Infrastructure, database: TestDatabase) -> set[tuple[int, str]]:
    """The (format, key id) of every sealed email and private key in the database."""
    connection = await _as_superuser(infrastructure, database)
    try:
        sealed = [bytes(row["sealed"]) for row in await connection.fetch(_SEALED_VALUES)]
    finally:
        await connection.close()
    return {(value[0], value[2 : 2 + value[1]].decode()) for value in sealed}


async def _sealed_rows(infrastructure: Infrastructure, database: TestDatabase) -> int:
    connection = await _as_superuser(infrastructure, database)
    try:
        return int(await connection.fetchval(_SEALED_ROWS))
    finally:
        await connection.close()


async def _seal_as_format_1(
    database: TestDatabase, settings: Settings, user: accounts.NewTenant, email: str
) -> None:
    """Stores the user's email and every private key as an older database holds them."""
    fields, key_encryption = settings.secret("field_keys"), settings.secret("key_encryption_keys")
    vault = FieldCipher.from_setting(key_encryption)
    connection = await asyncpg.connect(database.owner_url)
    try:
        async with connection.transaction():
            for row in await connection.fetch("SELECT kid, sealed_private_key FROM signing_keys"):
                field = SealedField.of(_PRIVATE_KEY_COLUMN, None, row["kid"])
                private = vault.decrypt(row["sealed_private_key"], context=field)
                legacy = _format_1(key_encryption, private, _PRIVATE_KEY_COLUMN)
                await connection.execute(
                    "UPDATE signing_keys SET sealed_private_key = $2 WHERE kid = $1",
                    row["kid"],
                    legacy,
                )
            await connection.execute(
                "SELECT set_config('app.tenant_id', $1, true)", str(user.tenant_id)
            )
            legacy = _format_1(fields, email, "users.email")
            await connection.execute(
                "UPDATE users SET email_sealed = $2 WHERE id = $1", user.admin_user_id, legacy
            )
    finally:
        await connection.close()


async def test_rotate_reseal_and_drop_the_old_keys_and_sign_in_and_tokens_still_work(
    settings: Settings, infrastructure: Infrastructure, database: TestDatabase
) -> None:
    old_fields, old_keks = settings.secret("field_keys"), settings.secret("key_encryption_keys")
    new_fields, new_keks = _key("k2"), _key("k2")
    slug = f"t-{uuid.uuid4().hex[:10]}"
    email = f"admin@{slug}.example"
    sign_in = sessions.Login(slug, email, PASSWORD, "10.1.2.3")
    async with running(DEFINITION, settings, background=False) as service:
        created = await accounts.create_tenant(
            service.deps, accounts.CreateTenant(slug, slug, email, PASSWORD)
        )
        before = await sessions.login(service.deps, sign_in)
    kid = jwt.get_unverified_header(before.access_token)["kid"]
    await _seal_as_format_1(database, settings, created, email)
    assert await _formats(infrastructure, database) == {(1, "k1")}
    stale_rows = await _sealed_rows(infrastructure, database)

    rotating = _with_keys(settings, f"{old_fields},{new_fields}", f"{old_keks},{new_keks}")
    async with running(DEFINITION, rotating, background=False) as service:
        await sessions.login(service.deps, sign_in)  # format 1 still opens
        resealed = await reseal_all(service.deps, batch_size=1)
    assert resealed == stale_rows  # the admin's email and the private signing key
    assert await _formats(infrastructure, database) == {(2, "k2")}

    async with running(
        DEFINITION, _with_keys(settings, new_fields, new_keks), background=False
    ) as service:
        after = await sessions.login(service.deps, sign_in)
        signer = service.deps.signer
        assert signer.verify(before.access_token)["sub"] == str(created.admin_user_id)
        assert signer.verify(after.access_token)["sub"] == str(created.admin_user_id)
        assert await reseal_all(service.deps, batch_size=1) == 0
    assert jwt.get_unverified_header(after.access_token)["kid"] == kid  # the same key signs
