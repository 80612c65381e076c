"""The partners service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from mandi_contracts import PARTNER_EVENTS
from mandi_messaging import events_topic
from mandi_partners.bootstrap import build
from mandi_partners.config import Settings
from mandi_partners.entrypoints.consumers import consumers
from mandi_partners.entrypoints.http.routes import router
from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_partners.service_layer.verifying import reseal_all
from mandi_runtime import Command, RunningService, ServiceDefinition
from mandi_runtime.requests import require_if_match

__all__ = ["DEFINITION", "PartnersRunning"]

PartnersRunning = RunningService[Settings, PartnersDependencies]


async def _reseal(service: PartnersRunning, _args: Any) -> None:
    count = await reseal_all(service.deps, service.settings.rekey_batch_size)
    print(f"re-encrypted {count} rows under the newest key")  # noqa: T201


DEFINITION = ServiceDefinition(
    name="partners",
    settings=Settings,
    build=build,
    routers=[router],
    migrations=resources.files("mandi_partners") / "migrations",
    topic=events_topic("partners"),
    commands=[Command("reseal", "re-encrypt sealed values made with older keys, now", _reseal)],
    # The verifier is not a readiness check: while it is down, applications are parked.
    amendments=[require_if_match],
    consumers=[consumers],
    publishes=PARTNER_EVENTS,
)
