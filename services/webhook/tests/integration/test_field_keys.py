"""Rotating the field keys that seal signing secrets: a new key appended, every secret
re-encrypted under it, and the old key removed, with each endpoint still signed as before."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from pydantic import SecretStr

from mandi_runtime import running
from mandi_testing import TestDatabase, as_tenant
from mandi_webhook.config import Settings
from mandi_webhook.entrypoints.service import DEFINITION
from mandi_webhook.service_layer import endpoints
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.endpoints import Registration
from mandi_webhook.service_layer.upkeep import reseal_all
from mandi_webhooks import WebhookSecret

pytestmark = pytest.mark.integration


def _key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _with_keys(settings: Settings, keyring: str) -> Settings:
    return settings.model_copy(update={"field_keys": SecretStr(keyring)})


async def _key_ids(database: TestDatabase, tenant: Any) -> list[str]:
    async def read(connection: Any) -> list[str]:
        rows = await connection.fetch("SELECT secret_sealed FROM endpoint_secrets")
        return [bytes(row[0])[2 : 2 + row[0][1]].decode() for row in rows]

    return await as_tenant(database.owner_url, tenant, read)


async def _endpoint(deps: WebhookDependencies, tenant: Any, endpoint_id: Any) -> Any:
    async with deps.uow(tenant) as uow:
        return await uow.endpoints.get(endpoint_id)


async def test_secrets_are_resealed_under_the_newest_key_and_still_sign(
    settings: Settings,
    deps: WebhookDependencies,
    desk: Any,
    database: TestDatabase,
    clock: Any,
) -> None:
    registration = Registration("https://hooks.public.example/", frozenset(), "ERP", 10)
    partner = desk.partner()
    made = await endpoints.register_endpoint(deps, partner, registration)
    first = settings.secret("field_keys")
    second = _key("k2")

    async with running(
        DEFINITION, _with_keys(settings, f"{first},{second}"), background=False
    ) as both:
        resealed = await reseal_all(both.deps, batch_size=1)
    async with running(DEFINITION, _with_keys(settings, second), background=False) as newest:
        endpoint = await _endpoint(newest.deps, desk.tenant, made.value.id)

    assert resealed == 1
    assert await _key_ids(database, desk.tenant) == ["k2"]
    assert endpoint is not None
    assert endpoint.signing_secrets(clock.now()) == (WebhookSecret.parse(made.value.secret),)
