"""The platform for end-to-end tests: auth, partners, availability, risk and matching behind real
nginx, Redis, Kafka, PostgreSQL.

Limits are set low on purpose (plans `tiny` and `quota`) so refusals can be reached quickly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from aiokafka import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mandi_availability.config import Settings as AvailabilitySettings
from mandi_matching.config import Settings as MatchingSettings
from mandi_security.fields import FieldCipher, SealedField, keyring_from_setting
from mandi_testing import Infrastructure, fresh_database
from mandi_testing.kafka import end_offsets, read_topic_since
from mandi_testing.platform import RunningPlatform, running_platform

LIMITS: dict[str, Any] = {
    "plans": {
        "standard": {"per_second": 50, "burst": 100, "per_day": 1_000_000},
        "tiny": {"per_second": 1, "burst": 2},
        "quota": {"per_second": 100, "burst": 100, "per_day": 3},
    },
    "per_user": {"per_second": 100, "burst": 200},
    "per_tenant": {"per_second": 1000, "burst": 2000},
}

# A verifier that fails fast and a circuit that opens after two failed calls and is tried again
# after two seconds; waiting applications are retried every half second.
PARTNERS_SETTINGS: dict[str, Any] = {
    "verifier_timeout_seconds": 1.0,
    "verifier_attempts": 2,
    "verifier_breaker_fail_max": 2,
    "verifier_breaker_reset_seconds": 2.0,
    "verification_retry_seconds": 0.5,
}

# Trade sagas give a participant 4 s to answer a step (or a compensation) and are swept four
# times a second, so a test sees a compensation on a deadline within seconds.
MATCHING_SETTINGS: dict[str, Any] = {
    "step_deadline_seconds": 4.0,
    "compensation_deadline_seconds": 4.0,
    "saga_sweep_seconds": 0.25,
}

# Partners' endpoints in the tests are receivers on 127.0.0.1 (as in development), and a
# failed delivery is tried again within seconds, not minutes.
WEBHOOK_SETTINGS: dict[str, Any] = {
    "allow_local_endpoints": True,
    "retry_delays_seconds": [0, 1, 2, 4],
    "delivery_timeout_seconds": 3.0,
}


# Checkpoints every few records and seconds, so an export's range is soon signed.
AUDIT_SETTINGS: dict[str, Any] = {"checkpoint_every_records": 50, "checkpoint_every_seconds": 2}


# The topics the platform's services publish on; where each ended when the platform started,
# so a test can read everything the run put there (test_wire_events.py).
EVENT_TOPICS = ("mandi.auth.events", "mandi.partners.events")
_WIRE_START = pytest.StashKey[dict[str, dict[int, int]]]()


@pytest.fixture(scope="session")
def platform(
    infrastructure: Infrastructure,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[RunningPlatform]:
    """Auth migrated and serving on a fresh database, nginx in front, for the whole run."""
    workdir = tmp_path_factory.mktemp("platform")
    with (
        fresh_database(infrastructure.postgres_admin_url, "e2e_auth") as database,
        fresh_database(infrastructure.postgres_admin_url, "e2e_partners") as partners_database,
        fresh_database(
            infrastructure.postgres_admin_url,
            "e2e_availability",
            AvailabilitySettings.database_extensions,
        ) as availability_database,
        fresh_database(infrastructure.postgres_admin_url, "e2e_risk") as risk_database,
        fresh_database(
            infrastructure.postgres_admin_url,
            "e2e_matching",
            MatchingSettings.database_extensions,
        ) as matching_database,
        fresh_database(infrastructure.postgres_admin_url, "e2e_webhook") as webhook_database,
        fresh_database(infrastructure.postgres_admin_url, "e2e_audit") as audit_database,
        running_platform(
            infrastructure,
            database,
            workdir,
            auth_settings=LIMITS,
            partners_database=partners_database,
            partners_settings=PARTNERS_SETTINGS,
            availability_database=availability_database,
            risk_database=risk_database,
            matching_database=matching_database,
            matching_settings=MATCHING_SETTINGS,
            webhook_database=webhook_database,
            webhook_settings=WEBHOOK_SETTINGS,
            audit_database=audit_database,
            audit_settings=AUDIT_SETTINGS,
        ) as running,
    ):
        pytestconfig.stash[_WIRE_START] = {
            topic: asyncio.run(end_offsets(infrastructure.kafka_bootstrap_servers, topic))
            for topic in EVENT_TOPICS
        }
        yield running


@pytest.fixture
def published_since_start(
    platform: RunningPlatform, pytestconfig: pytest.Config
) -> Callable[[], list[ConsumerRecord]]:
    """Reads every message this platform's services published since the platform started.

    Other runs may share the Kafka (a `make dev`, another checkout's tests): messages about
    tenants this platform does not know are theirs and left out; a message that names no tenant
    at all is kept, whoever wrote it.
    """
    bootstrap = platform.auth.environment["MANDI_AUTH_KAFKA_BOOTSTRAP_SERVERS"]

    def read() -> list[ConsumerRecord]:
        records = [
            record
            for topic, since in pytestconfig.stash[_WIRE_START].items()
            for record in asyncio.run(read_topic_since(bootstrap, topic, since))
        ]
        ours = {str(tenant) for tenant in asyncio.run(_platform_tenants(platform))}
        return [record for record in records if _tenant_named(record) in ours | {None}]

    return read


def _tenant_named(record: ConsumerRecord) -> str | None:
    header = dict(record.headers).get("ce_tenantid")
    if header:
        return str(header.decode())
    data = json.loads(record.value) if record.value else {}
    tenant = data.get("tenant_id") if isinstance(data, dict) else None
    return str(tenant) if tenant else None


async def _platform_tenants(platform: RunningPlatform) -> list[uuid.UUID]:
    environment = platform.auth.environment
    connection = await asyncpg.connect(
        environment["MANDI_AUTH_MIGRATION_DATABASE_URL"],
        password=environment["MANDI_AUTH_MIGRATION_DATABASE_PASSWORD"],
    )
    try:
        return [row["id"] for row in await connection.fetch("SELECT id FROM tenants")]
    finally:
        await connection.close()


@pytest.fixture
def gateway(platform: RunningPlatform) -> Iterator[httpx.Client]:
    """A client of the gateway, from a loopback address of its own (127.x.y.z).

    Sign-in backoff counts failures per client address, in Redis, for hours: a fresh address
    per test keeps one test's failures (or an earlier run's) from slowing another's sign-ins.
    """
    address = (
        f"127.{secrets.randbelow(254) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    )
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=platform.gateway.url, timeout=10, transport=transport) as client:
        yield client


@dataclass(frozen=True)
class Admin:
    """A tenant's first admin, signed in."""

    tenant: str
    tenant_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def bearer(self) -> dict[str, str]:
        """The Authorization header of this admin's access token."""
        return {"authorization": f"Bearer {self.access_token}"}


def _login(client: httpx.Client, tenant: str, email: str, password: str) -> httpx.Response:
    body = {"tenant": tenant, "email": email, "password": password}
    return client.post("/api/v1/auth/login", json=body)


@pytest.fixture
def login(gateway: httpx.Client) -> Callable[[str, str, str], httpx.Response]:
    """POST /api/v1/auth/login through the gateway: login(tenant, email, password)."""
    return lambda tenant, email, password: _login(gateway, tenant, email, password)


@dataclass(frozen=True)
class _Founder:
    slug: str
    email: str
    password: str


def _new_founder(platform: RunningPlatform) -> _Founder:
    slug = f"t-{uuid.uuid4().hex[:10]}"
    founder = _Founder(slug, f"founder@{slug}.example", uuid.uuid4().hex)
    platform.create_tenant(founder.slug, founder.email, founder.password)
    return founder


@pytest.fixture(scope="session")
def founders(platform: RunningPlatform) -> dict[str, _Founder]:
    """Two tenants, "a" and "b", made with the operator's command, and their first admins."""
    return {"a": _new_founder(platform), "b": _new_founder(platform)}


def _signed_in(client: httpx.Client, tenant: str, email: str, password: str) -> Admin:
    answer = _login(client, tenant, email, password)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    me = client.get("/api/v1/auth/me", headers=_bearer(tokens["access_token"]))
    return Admin(
        tenant,
        me.json()["tenant_id"],
        email,
        password,
        tokens["access_token"],
        tokens["refresh_token"],
    )


@pytest.fixture
def new_admin(founders: dict[str, _Founder], gateway: httpx.Client) -> Callable[..., Admin]:
    """A new admin of tenant "a" (or "b"), added by its founder and signed in: new_admin("b")."""

    def make(tenant: str = "a") -> Admin:
        founder = founders[tenant]
        boss = _signed_in(gateway, founder.slug, founder.email, founder.password)
        email, password = f"admin-{uuid.uuid4().hex[:8]}@{founder.slug}.example", uuid.uuid4().hex
        added = gateway.post(
            "/api/v1/auth/users",
            headers=boss.bearer,
            json={"email": email, "password": password, "type": "internal", "roles": ["admin"]},
        )
        assert added.status_code == 201, added.text
        return _signed_in(gateway, founder.slug, email, password)

    return make


@pytest.fixture
def staff(new_admin: Callable[..., Any], gateway: httpx.Client) -> httpx.Client:
    """The gateway client, signed in as an admin of tenant "a" (operator staff)."""
    gateway.headers.update(new_admin("a").bearer)
    return gateway


@pytest.fixture
def verifier(platform: RunningPlatform) -> Iterator[Any]:
    """The fake verifier, answering normally again after each test."""
    assert platform.verifier is not None
    yield platform.verifier
    platform.verifier.start()
    platform.verifier.set_mode("up")


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _platform_private_key(platform: RunningPlatform) -> tuple[str, Ed25519PrivateKey]:
    environment = platform.auth.environment
    connection = await asyncpg.connect(
        environment["MANDI_AUTH_MIGRATION_DATABASE_URL"],
        password=environment["MANDI_AUTH_MIGRATION_DATABASE_PASSWORD"],
    )
    try:
        row = await connection.fetchrow(
            "SELECT kid, sealed_private_key FROM signing_keys ORDER BY activates_at DESC LIMIT 1"
        )
    finally:
        await connection.close()
    keyring = keyring_from_setting(platform.secrets["MANDI_AUTH_KEY_ENCRYPTION_KEYS"])
    vault = FieldCipher(keyring, current=next(iter(keyring)))
    # Sealed by auth's signer: bound to the key's kid (signing keys have no tenant).
    field = SealedField.of("signing_keys.private_key", None, row["kid"])
    raw = vault.decrypt(row["sealed_private_key"], context=field)
    return row["kid"], Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))


@pytest.fixture
async def sign_as_platform(platform: RunningPlatform) -> Callable[[dict[str, Any]], str]:
    """Signs claims with the platform's own current key, to make tokens it would not issue."""
    kid, private_key = await _platform_private_key(platform)
    return lambda claims: jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here runs the platform: `make test-unit` leaves them out by the e2e mark.

    The tests of what went over the wire run last, to see every message the run produced.
    """
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.path.name == "test_wire_events.py")
