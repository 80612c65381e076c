"""The audit service's adapters and use cases, built from what the runtime made."""

from __future__ import annotations

from functools import partial

from mandi_audit.adapters.checkpoint_file import CheckpointFile
from mandi_audit.adapters.journal import JournalTransaction
from mandi_audit.adapters.log import SqlAuditLog
from mandi_audit.config import Settings
from mandi_audit.domain.checkpoints import CheckpointSigner
from mandi_audit.service_layer.checkpoints import publish_keys, sign_due
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.journal import JournalWriter
from mandi_audit.service_layer.verifying import verify_all
from mandi_runtime import PeriodicJob, Resources, SystemClock, Wiring
from mandi_security import keyring_from_setting

__all__ = ["build"]


def build(resources: Resources[Settings]) -> Wiring[AuditDependencies]:
    """The service's dependencies, its jobs and the journal's writer."""
    settings = resources.settings
    keys = settings.checkpoint_keys
    signer = CheckpointSigner(keyring_from_setting(keys.get_secret_value() if keys else ""))
    clock = SystemClock()
    writer = JournalWriter(
        transaction=partial(JournalTransaction, resources.sessions),
        signer=signer,
        now=clock.now,
        checkpoint_every=settings.checkpoint_every_records,
    )
    deps = AuditDependencies(
        log=SqlAuditLog(resources.database.engine, resources.sessions),
        journal=writer,
        signer=signer,
        clock=clock,
        checkpoint_file=CheckpointFile(settings.checkpoint_file),
        checkpoint_every_seconds=settings.checkpoint_every_seconds,
        verify_chunk=settings.verify_batch_size,
        verify_max_records=settings.verify_max_records,
        verify_concurrency=settings.verify_concurrency,
    )
    # Timed signatures are checked a few times per period, so none is much later than due.
    signing_round = max(0.5, min(30.0, settings.checkpoint_every_seconds / 4))
    return Wiring(
        deps,
        jobs=[
            PeriodicJob("audit.checkpoints", signing_round, partial(sign_due, deps)),
            PeriodicJob(
                "audit.verification", settings.verify_every_seconds, partial(verify_all, deps)
            ),
        ],
        on_start=partial(publish_keys, deps),
        handler_dependencies={"writer": writer},
    )
