"""The webhook service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import UUID

from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_security.fields import FieldCipher
from mandi_webhook.adapters.dns import bounded
from mandi_webhook.adapters.unit_of_work import SqlWebhookDirectory, SqlWebhookUnitOfWork
from mandi_webhook.config import Settings
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.upkeep import purge_idempotency_keys, reseal_all
from mandi_webhooks import resolve_host

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

    deps = WebhookDependencies(
        uow=uow,
        read_uow=read_uow,
        directory=lambda: SqlWebhookDirectory(resources.sessions),
        clock=SystemClock(),
        resolve=bounded(resolve_host, settings.resolve_timeout_seconds),
        allow_local_endpoints=settings.allow_local_endpoints,
    )
    return Wiring(deps, jobs=_jobs(settings, deps))


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
    ]
