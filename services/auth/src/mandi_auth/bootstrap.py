"""The auth service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from uuid import UUID

from redis.asyncio import Redis

from mandi_auth.adapters.gatekeeper import RedisGatekeeper
from mandi_auth.adapters.key_directory import CachedApiKeyDirectory, CachedTenantStatus
from mandi_auth.adapters.key_hasher import PepperedKeyHasher
from mandi_auth.adapters.login_throttle import RedisLoginThrottle
from mandi_auth.adapters.passwords import Argon2Passwords
from mandi_auth.adapters.repositories import EmailProtection
from mandi_auth.adapters.signer import Ed25519Signer
from mandi_auth.adapters.unit_of_work import SqlAuthDirectory, SqlAuthUnitOfWork
from mandi_auth.config import LimitSettings, Settings
from mandi_auth.domain.limits import Limit, Plan
from mandi_auth.domain.login_backoff import LoginBackoff, LoginScope
from mandi_auth.service_layer.authorize import verify_direct_call
from mandi_auth.service_layer.dependencies import AuthDependencies, LimitPolicy
from mandi_auth.service_layer.resealing import reseal_all
from mandi_auth.service_layer.signing_keys import refresh_signing_keys
from mandi_observability import get_logger
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_runtime.redis import redis_of
from mandi_security.fields import BlindIndex, FieldCipher

__all__ = ["build"]

_log = get_logger("mandi.auth")


def build(resources: Resources[Settings]) -> Wiring[AuthDependencies]:
    """Builds every adapter; nothing connects until it is used."""
    settings = resources.settings
    redis = redis_of(settings)
    resources.close_at_the_end(redis.aclose)
    deps = _dependencies(resources, redis)
    refresh_keys = partial(_refresh_keys, deps, settings)
    return Wiring(
        deps,
        on_start=refresh_keys,
        # Every replica loads the keys it verifies with; making a new one is locked already.
        loops=[partial(_refresh_keys_forever, refresh_keys, settings.signing_key_refresh_seconds)],
        jobs=[
            PeriodicJob(
                "auth.reseal",
                settings.rekey_interval_seconds,
                partial(reseal_all, deps, settings.rekey_batch_size),
            )
        ],
        readiness=[redis.ping],
        token_verifier=_DirectCallVerifier(deps),
    )


def _dependencies(resources: Resources[Settings], redis: Redis) -> AuthDependencies:
    settings, sessions = resources.settings, resources.sessions
    emails = EmailProtection(
        FieldCipher.from_setting(settings.secret("field_keys")),
        BlindIndex(base64.b64decode(settings.secret("email_index_key"))),
    )

    def uow(tenant_id: UUID) -> SqlAuthUnitOfWork:
        return SqlAuthUnitOfWork(sessions, emails, tenant_id=tenant_id)

    def directory() -> SqlAuthDirectory:
        return SqlAuthDirectory(sessions)

    clock = SystemClock()
    pepper = settings.secret("api_key_pepper").encode()
    login_limits = _login_limits(settings)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    return AuthDependencies(
        uow=uow,
        directory=directory,
        clock=clock,
        passwords=Argon2Passwords(),
        key_hasher=PepperedKeyHasher(pepper),
        signer=Ed25519Signer(
            FieldCipher.from_setting(settings.secret("key_encryption_keys")),
            issuer=settings.issuer,
            audience=settings.audience,
            token_lifetime=lifetime,
            clock=clock,
        ),
        gatekeeper=RedisGatekeeper(redis, clock),
        throttle=RedisLoginThrottle(redis, pepper, login_limits),
        api_keys=CachedApiKeyDirectory(uow, directory),
        tenant_status=CachedTenantStatus(directory),
        limits=_limits(settings),
        backoff=login_limits[LoginScope.ACCOUNT_FROM_ADDRESS],
        key_environment=settings.api_key_environment,
        access_token_lifetime=lifetime,
        refresh_token_lifetime=timedelta(days=settings.refresh_token_days),
        key_rotation_overlap=timedelta(hours=settings.api_key_rotation_overlap_hours),
    )


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


async def _refresh_keys(deps: AuthDependencies, settings: Settings) -> None:
    """Loads the signing keys, making a new one when the rotation period is over."""
    await refresh_signing_keys(
        deps,
        rotate_every=timedelta(days=settings.signing_key_rotation_days),
        propagation=timedelta(seconds=settings.signing_key_propagation_seconds),
    )


async def _refresh_keys_forever(
    refresh: Callable[[], Awaitable[None]], every_seconds: float
) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await refresh()
        except Exception:  # noqa: BLE001 - a failed refresh keeps the keys loaded; retried next period
            _log.exception("refreshing the signing keys failed")


class _DirectCallVerifier:
    """Verifies tokens of requests that bypass the gateway: keys, revocation, tenant status."""

    def __init__(self, deps: AuthDependencies) -> None:
        self._deps = deps

    async def verify(self, token: str) -> dict[str, object]:
        return await verify_direct_call(self._deps, token)
