"""The audit service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from mandi_audit.bootstrap import build
from mandi_audit.config import Settings
from mandi_audit.entrypoints.consumers import journal
from mandi_audit.entrypoints.http.routes import router
from mandi_audit.service_layer import verifying
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_errors import Conflict
from mandi_runtime import Command, RunningService, ServiceDefinition

__all__ = ["DEFINITION", "AuditRunning"]

AuditRunning = RunningService[Settings, AuditDependencies]


async def _check_chains(service: AuditRunning, _args: Any) -> None:
    outcome = await verifying.verify_round(service.deps)
    print(f"checked {outcome.checked} records of every chain")  # noqa: T201
    for tenant_id, link in outcome.broken:
        print(f"tenant {tenant_id}: broken at seq {link.seq}: {link.reason}")  # noqa: T201
    if outcome.broken:
        raise Conflict(f"{len(outcome.broken)} chains do not verify")


DEFINITION = ServiceDefinition(
    name="audit",
    settings=Settings,
    build=build,
    routers=[router],
    consumers=[journal],
    migrations=resources.files("mandi_audit") / "migrations",
    commands=[
        Command("check-chains", "verify every tenant's chain now, as the job does", _check_chains)
    ],
)
