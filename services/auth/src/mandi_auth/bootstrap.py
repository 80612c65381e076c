"""The one place that builds the auth service's adapters from its settings."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from aiokafka import AIOKafkaProducer
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from mandi_auth.adapters.clock import SystemClock
from mandi_auth.adapters.gatekeeper import RedisGatekeeper
from mandi_auth.adapters.key_directory import CachedApiKeyDirectory, CachedTenantStatus
from mandi_auth.adapters.key_hasher import PepperedKeyHasher
from mandi_auth.adapters.login_throttle import RedisLoginThrottle
from mandi_auth.adapters.passwords import Argon2Passwords
from mandi_auth.adapters.repositories import EmailProtection
from mandi_auth.adapters.signer import Ed25519Signer
from mandi_auth.adapters.unit_of_work import TOPIC, SqlAuthDirectory, SqlAuthUnitOfWork
from mandi_auth.config import LimitSettings, Settings
from mandi_auth.domain.limits import Limit, Plan
from mandi_auth.domain.login_backoff import LoginBackoff, LoginScope
from mandi_auth.service_layer.authorize import verify_direct_call
from mandi_auth.service_layer.dependencies import AuthDependencies, LimitPolicy
from mandi_auth.service_layer.resealing import reseal_all
from mandi_auth.service_layer.signing_keys import refresh_signing_keys
from mandi_db import LeaderLock, create_database_engine, create_session_factory
from mandi_messaging import OutboxRelay, create_producer, ensure_topics, start_producer
from mandi_runtime import run_periodically
from mandi_security import PrincipalResolver
from mandi_security.fields import BlindIndex, FieldCipher

__all__ = ["AuthService", "running_service"]

_log = logging.getLogger(__name__)


def _limit(settings: LimitSettings) -> Limit:
    return Limit(per_second=settings.per_second, burst=settings.burst, per_day=settings.per_day)


def _limits(settings: Settings) -> LimitPolicy:
    plans = {name: Plan(name, _limit(limit)) for name, limit in settings.plans.items()}
    return LimitPolicy(
        plans=plans,
        per_user=_limit(settings.per_user),
        per_partner=_limit(settings.per_partner),
        per_tenant=_limit(settings.per_tenant),
        max_keys_per_partner=settings.max_keys_per_partner,
    )


def _login_limits(settings: Settings) -> dict[LoginScope, LoginBackoff]:
    free = {
        LoginScope.ACCOUNT_FROM_ADDRESS: settings.login_free_attempts,
        LoginScope.ACCOUNT: settings.login_free_attempts_per_account,
        LoginScope.ADDRESS: settings.login_free_attempts_per_address,
    }
    return {
        scope: LoginBackoff(free_attempts=attempts, max_seconds=settings.login_max_wait_seconds)
        for scope, attempts in free.items()
    }


def _redis(settings: Settings) -> Redis:
    # A burst beyond the pool waits its turn for a connection (up to the timeout) instead of
    # failing: redis-py's default pool raises at its 100th concurrent command.
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        password=password,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_seconds,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections


class _DirectCallVerifier:
    """Verifies tokens of requests that bypass the gateway: keys, revocation, tenant status."""

    def __init__(self, deps: AuthDependencies) -> None:
        self._deps = deps

    async def verify(self, token: str) -> dict[str, object]:
        return await verify_direct_call(self._deps, token)


@dataclass
class AuthService:
    """The built service: its use-case dependencies and the resources to close at the end."""

    settings: Settings
    deps: AuthDependencies
    resolver: PrincipalResolver
    engine: AsyncEngine
    redis: Redis
    producer: AIOKafkaProducer | None = None
    leader: LeaderLock | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def gateway_secret(self) -> str:
        """The secret nginx sends with every request it vouches for."""
        return self.settings.secret("gateway_secret")

    async def refresh_keys(self) -> None:
        """Loads the signing keys, making a new one when the rotation period is over."""
        await refresh_signing_keys(
            self.deps,
            rotate_every=timedelta(days=self.settings.signing_key_rotation_days),
            propagation=timedelta(seconds=self.settings.signing_key_propagation_seconds),
        )


def build(settings: Settings) -> AuthService:
    """Builds every adapter; nothing connects until it is used."""
    engine = create_database_engine(
        settings.database_url,
        password=settings.database_password.get_secret_value()
        if settings.database_password
        else None,
        application_name="mandi-auth",
    )
    sessions = create_session_factory(engine)
    emails = EmailProtection(
        FieldCipher.from_setting(settings.secret("field_keys")),
        BlindIndex(base64.b64decode(settings.secret("email_index_key"))),
    )

    def uow(tenant_id: UUID) -> SqlAuthUnitOfWork:
        return SqlAuthUnitOfWork(sessions, emails, tenant_id=tenant_id)

    def directory() -> SqlAuthDirectory:
        return SqlAuthDirectory(sessions)

    clock = SystemClock()
    redis = _redis(settings)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    signer = Ed25519Signer(
        FieldCipher.from_setting(settings.secret("key_encryption_keys")),
        issuer=settings.issuer,
        audience=settings.audience,
        token_lifetime=lifetime,
        clock=clock,
    )
    login_limits = _login_limits(settings)
    deps = AuthDependencies(
        uow=uow,
        directory=directory,
        clock=clock,
        passwords=Argon2Passwords(),
        key_hasher=PepperedKeyHasher(settings.secret("api_key_pepper").encode()),
        signer=signer,
        gatekeeper=RedisGatekeeper(redis, clock),
        throttle=RedisLoginThrottle(
            redis, settings.secret("api_key_pepper").encode(), login_limits
        ),
        api_keys=CachedApiKeyDirectory(uow, directory),
        tenant_status=CachedTenantStatus(directory),
        limits=_limits(settings),
        backoff=login_limits[LoginScope.ACCOUNT_FROM_ADDRESS],
        key_environment=settings.api_key_environment,
        access_token_lifetime=lifetime,
        refresh_token_lifetime=timedelta(days=settings.refresh_token_days),
        key_rotation_overlap=timedelta(hours=settings.api_key_rotation_overlap_hours),
    )
    resolver = PrincipalResolver(
        gateway_secret=settings.secret("gateway_secret"), verifier=_DirectCallVerifier(deps)
    )
    return AuthService(settings=settings, deps=deps, resolver=resolver, engine=engine, redis=redis)


async def _refresh_keys_forever(service: AuthService) -> None:
    while True:
        await asyncio.sleep(service.settings.signing_key_refresh_seconds)
        try:
            await service.refresh_keys()
        except Exception:  # noqa: BLE001 - a failed refresh keeps the keys loaded; retried next period
            _log.exception("refreshing the signing keys failed")


async def _start_background(service: AuthService) -> None:
    settings = service.settings
    await ensure_topics(settings.kafka_bootstrap_servers, [TOPIC])
    service.producer = create_producer(
        settings.kafka_bootstrap_servers, client_id="mandi-auth-relay"
    )
    await start_producer(service.producer, settings.kafka_bootstrap_servers)
    password = settings.database_password.get_secret_value() if settings.database_password else None
    relay = OutboxRelay(
        dsn=settings.database_url, password=password, producer=service.producer, service="auth"
    )
    service.leader = LeaderLock(settings.database_url, password=password)
    reseal = run_periodically(
        "auth.reseal",
        settings.rekey_interval_seconds,
        lambda: reseal_all(service.deps, settings.rekey_batch_size),
        service.leader,
    )
    service.tasks = [
        asyncio.create_task(relay.run()),
        # Every replica loads the keys it verifies with; making a new one is locked already.
        asyncio.create_task(_refresh_keys_forever(service)),
        asyncio.create_task(reseal),
    ]


@asynccontextmanager
async def running_service(
    settings: Settings, *, background: bool = True
) -> AsyncIterator[AuthService]:
    """The service with its keys loaded and, unless told otherwise, its relay running."""
    service = build(settings)
    try:
        await service.refresh_keys()
        if background:
            await _start_background(service)
        yield service
    finally:
        for task in service.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if service.leader is not None:
            await service.leader.close()
        if service.producer is not None:
            await service.producer.stop()
        await service.redis.aclose()
        await service.engine.dispose()
