"""The webhook service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

import httpx

from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_security.fields import FieldCipher
from mandi_webhook.adapters.dns import bounded
from mandi_webhook.adapters.sender import HttpSender
from mandi_webhook.adapters.unit_of_work import SqlWebhookDirectory, SqlWebhookUnitOfWork
from mandi_webhook.adapters.wakeups import listen_for_deliveries
from mandi_webhook.config import Settings
from mandi_webhook.domain.circuits import BreakerPolicy
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.dispatch import Dispatcher, DispatchPolicy
from mandi_webhook.service_layer.upkeep import (
    purge_ended_deliveries,
    purge_idempotency_keys,
    reseal_all,
)
from mandi_webhooks import RetrySchedule, resolve_host
from mandi_webhooks.http import delivery_client

__all__ = ["build"]

_PURGE_SECONDS = 3600.0


def build(resources: Resources[Settings]) -> Wiring[WebhookDependencies]:
    """Builds every adapter; nothing connects until it is used."""
    settings = resources.settings
    cipher = FieldCipher.from_setting(settings.secret("field_keys"))
    retention = timedelta(hours=settings.idempotency_retention_hours)

    def uow(tenant_id: UUID) -> SqlWebhookUnitOfWork:
        return SqlWebhookUnitOfWork(
            resources.sessions, cipher, tenant_id=tenant_id, idempotency_retention=retention
        )

    def read_uow(tenant_id: UUID) -> SqlWebhookUnitOfWork:
        return SqlWebhookUnitOfWork(
            resources.reads, cipher, tenant_id=tenant_id, idempotency_retention=retention
        )

    resolve = bounded(resolve_host, settings.resolve_timeout_seconds)
    deps = WebhookDependencies(
        uow=uow,
        read_uow=read_uow,
        directory=lambda: SqlWebhookDirectory(resources.sessions),
        clock=SystemClock(),
        resolve=resolve,
        allow_local_endpoints=settings.allow_local_endpoints,
    )
    dispatcher = _dispatcher(resources, deps)
    password = settings.database_password
    listener = partial(
        listen_for_deliveries,
        settings.database_url,
        password.get_secret_value() if password else None,
        dispatcher.wake,
    )
    return Wiring(
        deps,
        jobs=_jobs(settings, deps),
        loops=[dispatcher.run, listener],
        consumer_unit_of_work=uow,
        handler_dependencies={"deps": deps},
    )


def _dispatcher(resources: Resources[Settings], deps: WebhookDependencies) -> Dispatcher:
    settings = resources.settings
    # One connection per send in flight: a send never queues inside the pool, and the pool
    # stays small (httpcore's work per request grows with its number of connections).
    pool = settings.dispatch_concurrency
    client = delivery_client(
        connect_timeout=settings.connect_timeout_seconds,
        timeout=settings.delivery_timeout_seconds,
        allow_loopback=settings.allow_local_endpoints,
        resolve=deps.resolve,
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
    )
    sender = HttpSender(client, deadline_seconds=settings.delivery_timeout_seconds)
    resources.stack.push_async_callback(sender.close)
    return Dispatcher(
        uow=deps.uow,
        directory=deps.directory,
        clock=deps.clock,
        sender=sender,
        policy=_policy(settings),
    )


def _policy(settings: Settings) -> DispatchPolicy:
    schedule = RetrySchedule(
        tuple(timedelta(seconds=each) for each in settings.retry_delays_seconds),
        settings.retry_jitter,
    )
    breaker = BreakerPolicy(
        threshold=settings.breaker_threshold,
        cool_down=timedelta(seconds=settings.breaker_cool_down_seconds),
        max_cool_down=timedelta(seconds=settings.breaker_max_cool_down_seconds),
    )
    return DispatchPolicy(
        concurrency=settings.dispatch_concurrency,
        per_endpoint=settings.dispatch_per_endpoint,
        claim_batch=settings.dispatch_concurrency,
        lease=timedelta(seconds=settings.delivery_timeout_seconds * 3 + 30),
        poll_seconds=settings.dispatch_poll_seconds,
        schedule=schedule,
        breaker=breaker,
    )


def _jobs(settings: Settings, deps: WebhookDependencies) -> list[PeriodicJob]:
    return [
        PeriodicJob(
            "webhook.reseal",
            settings.rekey_interval_seconds,
            partial(reseal_all, deps, settings.rekey_batch_size),
        ),
        PeriodicJob(
            "webhook.idempotency_purge", _PURGE_SECONDS, partial(purge_idempotency_keys, deps)
        ),
        PeriodicJob(
            "webhook.delivery_purge",
            _PURGE_SECONDS,
            partial(purge_ended_deliveries, deps, timedelta(days=settings.delivery_retention_days)),
        ),
    ]
