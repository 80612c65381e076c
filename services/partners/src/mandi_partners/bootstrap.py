"""The partners service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

import base64
from datetime import timedelta
from functools import partial
from uuid import UUID

from mandi_partners.adapters.protection import PiiProtection
from mandi_partners.adapters.unit_of_work import (
    SqlPartnerLookups,
    SqlPartnersDirectory,
    SqlPartnersUnitOfWork,
)
from mandi_partners.adapters.verifications import InProcessVerifications
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
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_security.fields import BlindIndex, FieldCipher

__all__ = ["build"]

_PURGE_SECONDS = 3600.0


def build(resources: Resources[Settings]) -> Wiring[PartnersDependencies]:
    """Builds every adapter; nothing connects until it is used."""
    settings, sessions, engine = resources.settings, resources.sessions, resources.database.engine
    protection = _protection(settings)
    retention = timedelta(hours=settings.idempotency_retention_hours)

    def uow(tenant_id: UUID) -> SqlPartnersUnitOfWork:
        return SqlPartnersUnitOfWork(
            sessions, protection, tenant_id=tenant_id, idempotency_retention=retention
        )

    def read_uow(tenant_id: UUID) -> SqlPartnersUnitOfWork:
        return SqlPartnersUnitOfWork(
            resources.reads, protection, tenant_id=tenant_id, idempotency_retention=retention
        )

    verifier = _verifier(settings)
    resources.close_at_the_end(verifier.aclose)
    verifications = InProcessVerifications()
    resources.close_at_the_end(verifications.drain)  # runs before the verifier closes
    deps = PartnersDependencies(
        uow=uow,
        read_uow=read_uow,
        lookups=lambda tenant_id: SqlPartnerLookups(engine, protection, tenant_id=tenant_id),
        directory=lambda: SqlPartnersDirectory(sessions),
        clock=SystemClock(),
        verifier=verifier,
        verifications=verifications,
        verification_lease=timedelta(seconds=_verifier_deadline(settings) + 5),
    )
    verifications.verify = partial(verify_partner, deps)
    return Wiring(deps, jobs=_jobs(settings, deps), consumer_unit_of_work=uow)


def _jobs(settings: Settings, deps: PartnersDependencies) -> list[PeriodicJob]:
    return [
        PeriodicJob(
            "partners.verification_sweep",
            settings.verification_retry_seconds,
            partial(retry_waiting_verifications, deps),
        ),
        PeriodicJob(
            "partners.reseal",
            settings.rekey_interval_seconds,
            partial(reseal_all, deps, settings.rekey_batch_size),
        ),
        PeriodicJob(
            "partners.idempotency_purge", _PURGE_SECONDS, partial(purge_idempotency_keys, deps)
        ),
    ]


def _protection(settings: Settings) -> PiiProtection:
    def index(name: str) -> BlindIndex:
        return BlindIndex(base64.b64decode(settings.secret(name)))

    return PiiProtection(
        cipher=FieldCipher.from_setting(settings.secret("field_keys")),
        tax_id_index=index("tax_id_index_key"),
        email_index=index("email_index_key"),
        phone_index=index("phone_index_key"),
    )


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
