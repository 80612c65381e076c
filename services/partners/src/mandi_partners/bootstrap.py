"""The one place that builds the partners service's adapters from its settings."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from mandi_db import LeaderLock, create_database_engine, create_session_factory
from mandi_messaging import OutboxRelay, create_producer, ensure_topics, start_producer
from mandi_partners.adapters.protection import PiiProtection
from mandi_partners.adapters.unit_of_work import (
    TOPIC,
    SqlPartnersDirectory,
    SqlPartnersUnitOfWork,
)
from mandi_partners.adapters.verifier import HttpVerifier
from mandi_partners.config import Settings
from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_partners.service_layer.verifying import (
    purge_idempotency_keys,
    reseal_all,
    retry_waiting_verifications,
    verify_partner,
)
from mandi_resilience import CallPolicy
from mandi_runtime import run_periodically
from mandi_security import PrincipalResolver
from mandi_security.fields import BlindIndex, FieldCipher

__all__ = ["PartnersService", "build", "running_service"]

_log = logging.getLogger(__name__)
_PURGE_SECONDS = 3600.0


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class _InProcessVerifications:
    """Runs each scheduled verification as a task of this process; the sweep covers a crash."""

    def __init__(self) -> None:
        self.deps: PartnersDependencies | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, tenant_id: UUID, partner_id: UUID) -> None:
        if self.deps is None:
            return
        task = asyncio.create_task(self._verify(self.deps, tenant_id, partner_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _verify(deps: PartnersDependencies, tenant_id: UUID, partner_id: UUID) -> None:
        try:
            await verify_partner(deps, tenant_id, partner_id)
        except Exception:  # noqa: BLE001 - the sweep retries it; one failure must not end others
            _log.exception("verifying partner %s failed; the sweep will retry", partner_id)

    async def drain(self) -> None:
        """Waits for the verifications under way (at shutdown)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)


def _index(settings: Settings, name: str) -> BlindIndex:
    return BlindIndex(base64.b64decode(settings.secret(name)))


def _verifier_deadline(settings: Settings) -> float:
    return settings.verifier_timeout_seconds * settings.verifier_attempts + 5


def _verifier(settings: Settings) -> HttpVerifier:
    policy = CallPolicy(
        name="kyc-verifier",
        timeout_seconds=settings.verifier_timeout_seconds,
        attempts=settings.verifier_attempts,
        deadline_seconds=_verifier_deadline(settings),
        breaker_fail_max=settings.verifier_breaker_fail_max,
        breaker_reset_seconds=settings.verifier_breaker_reset_seconds,
    )
    token = settings.verifier_token.get_secret_value() if settings.verifier_token else None
    return HttpVerifier(settings.verifier_url, policy, token=token)


@dataclass
class PartnersService:
    """The built service: its use-case dependencies and the resources to close at the end."""

    settings: Settings
    deps: PartnersDependencies
    resolver: PrincipalResolver
    engine: AsyncEngine
    verifier: HttpVerifier
    verifications: _InProcessVerifications
    producer: AIOKafkaProducer | None = None
    leader: LeaderLock | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build(settings: Settings) -> PartnersService:
    """Builds every adapter; nothing connects until it is used."""
    password = settings.database_password
    engine = create_database_engine(
        settings.database_url,
        password=password.get_secret_value() if password else None,
        application_name="mandi-partners",
    )
    sessions = create_session_factory(engine)
    protection = PiiProtection(
        cipher=FieldCipher.from_setting(settings.secret("field_keys")),
        tax_id_index=_index(settings, "tax_id_index_key"),
        email_index=_index(settings, "email_index_key"),
        phone_index=_index(settings, "phone_index_key"),
    )
    retention = timedelta(hours=settings.idempotency_retention_hours)

    def uow(tenant_id: UUID) -> SqlPartnersUnitOfWork:
        return SqlPartnersUnitOfWork(
            sessions, protection, tenant_id=tenant_id, idempotency_retention=retention
        )

    def directory() -> SqlPartnersDirectory:
        return SqlPartnersDirectory(sessions)

    verifier = _verifier(settings)
    verifications = _InProcessVerifications()
    deps = PartnersDependencies(
        uow=uow,
        directory=directory,
        clock=_SystemClock(),
        verifier=verifier,
        verifications=verifications,
        verification_lease=timedelta(seconds=_verifier_deadline(settings) + 5),
    )
    verifications.deps = deps
    resolver = PrincipalResolver(gateway_secret=settings.secret("gateway_secret"), verifier=None)
    return PartnersService(
        settings=settings,
        deps=deps,
        resolver=resolver,
        engine=engine,
        verifier=verifier,
        verifications=verifications,
    )


async def _start_background(service: PartnersService) -> None:
    settings, deps = service.settings, service.deps
    await ensure_topics(settings.kafka_bootstrap_servers, [TOPIC])
    service.producer = create_producer(
        settings.kafka_bootstrap_servers, client_id="mandi-partners-relay"
    )
    await start_producer(service.producer, settings.kafka_bootstrap_servers)
    secret = settings.database_password
    password = secret.get_secret_value() if secret else None
    relay = OutboxRelay(
        dsn=settings.database_url, password=password, producer=service.producer, service="partners"
    )
    service.leader = LeaderLock(settings.database_url, password=password)
    jobs = [
        (
            "partners.verification_sweep",
            settings.verification_retry_seconds,
            lambda: retry_waiting_verifications(deps),
        ),
        (
            "partners.reseal",
            settings.rekey_interval_seconds,
            lambda: reseal_all(deps, settings.rekey_batch_size),
        ),
        ("partners.idempotency_purge", _PURGE_SECONDS, lambda: purge_idempotency_keys(deps)),
    ]
    service.tasks = [asyncio.create_task(relay.run())] + [
        asyncio.create_task(run_periodically(name, seconds, job, service.leader))
        for name, seconds, job in jobs
    ]


@asynccontextmanager
async def running_service(
    settings: Settings, *, background: bool = True
) -> AsyncIterator[PartnersService]:
    """The service with, unless told otherwise, its relay and background jobs running."""
    service = build(settings)
    try:
        if background:
            await _start_background(service)
        yield service
    finally:
        for task in service.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await service.verifications.drain()
        if service.leader is not None:
            await service.leader.close()
        if service.producer is not None:
            await service.producer.stop()
        await service.verifier.aclose()
        await service.engine.dispose()
