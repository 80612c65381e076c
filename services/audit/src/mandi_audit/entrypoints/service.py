"""The audit service, said once: what the runtime needs to run it."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from mandi_audit.bootstrap import build
from mandi_audit.config import Settings
from mandi_audit.entrypoints.consumers import journal
from mandi_audit.entrypoints.http.routes import router
from mandi_audit.service_layer import exports, verifying
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


async def _archive(service: AuditRunning, args: Any) -> None:
    archived = await exports.archive_segment(service.deps, args.tenant, args.first, args.through)
    await asyncio.to_thread(Path(args.output).write_bytes, archived)
    print(f"archived records {args.first} to {args.through} (and on to their checkpoint)")  # noqa: T201


def _archive_arguments(parser: Any) -> None:
    parser.add_argument("--tenant", type=UUID, required=True)
    parser.add_argument("--from", dest="first", type=int, default=1, help="the first seq (1)")
    parser.add_argument("--through", type=int, required=True, help="the last seq to archive")
    parser.add_argument("--output", required=True, help="the file to write")


DEFINITION = ServiceDefinition(
    name="audit",
    settings=Settings,
    build=build,
    routers=[router],
    consumers=[journal],
    migrations=resources.files("mandi_audit") / "migrations",
    commands=[
        Command("check-chains", "verify every tenant's chain now, as the job does", _check_chains),
        Command(
            "archive",
            "write a verified segment of a tenant's chain to a file (offline-verifiable)",
            _archive,
            _archive_arguments,
        ),
    ],
)
