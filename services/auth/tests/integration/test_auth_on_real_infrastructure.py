"""The auth adapters against real PostgreSQL (RLS, row locks), Redis (atomic limits) and Kafka."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from mandi_auth.domain.limits import Limit
from mandi_auth.service_layer import accounts, api_keys, sessions
from mandi_auth.service_layer.ports import Bucket
from mandi_errors import NotAuthenticated
from mandi_security.principal import Principal, PrincipalType

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


async def _admin(service):
    slug = f"t-{uuid.uuid4().hex[:10]}"
    created = await accounts.create_tenant(
        service.deps, accounts.CreateTenant(slug, slug, f"admin@{slug}.example", PASSWORD)
    )
    principal = Principal(
        tenant_id=created.tenant_id,
        principal_id=str(created.admin_user_id),
        type=PrincipalType.INTERNAL,
        scopes=frozenset({"*"}),
        roles=frozenset({"admin"}),
    )
    return slug, principal


async def _admit_concurrently(gatekeeper, buckets, attempts):
    verdicts = await asyncio.gather(*(gatekeeper.admit(None, buckets) for _ in range(attempts)))
    return sum(verdict.allowed for verdict in verdicts)


async def test_concurrent_requests_are_never_over_admitted(service):
    gatekeeper = service.deps.gatekeeper
    bucket = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=0.001, burst=25))
    assert await _admit_concurrently(gatekeeper, [bucket], 300) == 25


async def test_a_daily_quota_holds_under_concurrency(service):
    gatekeeper = service.deps.gatekeeper
    bucket = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=10_000, burst=10_000, per_day=7))
    assert await _admit_concurrently(gatekeeper, [bucket], 100) == 7
    refused = await gatekeeper.admit(None, [bucket])
    assert refused.reason == "quota_exceeded"
    assert 0 < refused.retry_after_seconds <= 86_400


async def test_a_request_is_charged_to_every_bucket_or_to_none(service):
    gatekeeper = service.deps.gatekeeper
    key = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=0.001, burst=5))
    tenant = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=0.001, burst=3))
    assert await _admit_concurrently(gatekeeper, [key, tenant], 20) == 3
    # The key's bucket paid only for the 3 admitted: 2 remain for it under another tenant.
    other_tenant = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=0.001, burst=100))
    assert await _admit_concurrently(gatekeeper, [key, other_tenant], 20) == 2


async def test_the_rate_refills_over_time(service):
    gatekeeper = service.deps.gatekeeper
    bucket = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=20, burst=2))
    assert await _admit_concurrently(gatekeeper, [bucket], 10) == 2
    refused = await gatekeeper.admit(None, [bucket])
    assert not refused.allowed
    await asyncio.sleep(refused.retry_after_seconds + 0.01)
    assert (await gatekeeper.admit(None, [bucket])).allowed


async def test_a_revoked_session_is_refused(service):
    session = uuid.uuid4()
    bucket = Bucket(f"test:{uuid.uuid4()}", Limit(per_second=100, burst=100))
    assert (await service.deps.gatekeeper.admit(session, [bucket])).allowed
    await service.deps.gatekeeper.revoke_session(session, for_seconds=60)
    assert (await service.deps.gatekeeper.admit(session, [bucket])).reason == "revoked"


async def test_row_level_security_keeps_each_tenant_to_its_own_keys(service):
    (_, alice), (_, bob) = await _admin(service), await _admin(service)
    command = api_keys.IssueApiKey("erp", frozenset({"auth:read"}), uuid.uuid4())
    alices = await api_keys.issue_api_key(service.deps, alice, command)
    bobs = await api_keys.issue_api_key(service.deps, bob, command)
    async with service.deps.uow(alice.tenant_id) as uow:
        assert await uow.api_keys.get(bobs.key.id) is None
        assert [key.id for key in await uow.api_keys.of_partner(None)] == [alices.key.id]
    # Below the repositories: the database itself shows no other tenant's row, and no row at all
    # when no tenant is set.
    async with service.engine.connect() as connection:
        await connection.execute(
            text("SELECT set_config('app.tenant_id', :tenant, true)"),
            {"tenant": str(alice.tenant_id)},
        )
        visible = (await connection.execute(text("SELECT id FROM api_keys"))).scalars().all()
        assert visible == [alices.key.id]
    async with service.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM api_keys"))).scalar() == 0


async def test_racing_refreshes_with_one_token_end_the_session(service):
    slug, _ = await _admin(service)
    login = sessions.Login(slug, f"admin@{slug}.example", PASSWORD, "10.1.2.3")
    tokens = await sessions.login(service.deps, login)
    outcomes = await asyncio.gather(
        *(sessions.refresh(service.deps, tokens.refresh_token) for _ in range(2)),
        return_exceptions=True,
    )
    renewed = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, NotAuthenticated)]
    assert (len(renewed), len(refused)) == (1, 1)
    with pytest.raises(NotAuthenticated):
        await sessions.refresh(service.deps, renewed[0].refresh_token)


async def _events_of(bootstrap, tenant_id, expected, wait_seconds=20.0):
    consumer = AIOKafkaConsumer(
        "mandi.auth.events",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[str] = []
    try:
        deadline = time.monotonic() + wait_seconds
        while len(found) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(
                    dict(record.headers)["ce_type"].decode()
                    for record in records
                    if json.loads(record.value).get("tenant_id") == str(tenant_id)
                )
    finally:
        await consumer.stop()
    return found


async def test_user_and_key_events_reach_kafka_through_the_outbox(service, settings):
    _, admin = await _admin(service)
    command = api_keys.IssueApiKey("erp", frozenset({"auth:read"}), uuid.uuid4())
    issued = await api_keys.issue_api_key(service.deps, admin, command)
    await api_keys.rotate_api_key(service.deps, admin, issued.key.id)
    await api_keys.revoke_api_key(service.deps, admin, issued.key.id)
    types = await _events_of(settings.kafka_bootstrap_servers, admin.tenant_id, expected=5)
    # The rotation's successor is announced by api_key_rotated (it names both keys).
    # Each event is keyed by its subject, so they share no partition and no order: count them.
    assert sorted(types) == sorted(
        [
            "mandi.tenant.created.v1",
            "mandi.user.created.v1",
            "mandi.api_key.issued.v1",
            "mandi.api_key.rotated.v1",
            "mandi.api_key.revoked.v1",
        ]
    )
