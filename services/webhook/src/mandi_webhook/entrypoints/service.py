"""The webhook service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from mandi_contracts import WEBHOOK_EVENTS
from mandi_messaging import events_topic
from mandi_runtime import Command, RunningService, ServiceDefinition
from mandi_runtime.requests import require_if_match
from mandi_webhook.bootstrap import build
from mandi_webhook.config import Settings
from mandi_webhook.entrypoints.consumers import consumers
from mandi_webhook.entrypoints.http.routes import router
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.upkeep import reseal_all

__all__ = ["DEFINITION", "WebhookRunning"]

WebhookRunning = RunningService[Settings, WebhookDependencies]


async def _reseal(service: WebhookRunning, _args: Any) -> None:
    count = await reseal_all(service.deps, service.settings.rekey_batch_size)
    print(f"re-encrypted {count} secrets under the newest key")  # noqa: T201


DEFINITION = ServiceDefinition(
    name="webhook",
    settings=Settings,
    build=build,
    routers=[router],
    consumers=[consumers],
    migrations=resources.files("mandi_webhook") / "migrations",
    topic=events_topic("webhook"),
    commands=[Command("reseal", "re-encrypt secrets sealed with older keys, now", _reseal)],
    amendments=[require_if_match],
    publishes=WEBHOOK_EVENTS,
)
