"""The auth service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from mandi_auth.bootstrap import build
from mandi_auth.config import Settings
from mandi_auth.entrypoints.commands import COMMANDS
from mandi_auth.entrypoints.http.authorize import AuthorizeFastPath
from mandi_auth.entrypoints.http.routes import router
from mandi_contracts import AUTH_EVENTS
from mandi_messaging import events_topic
from mandi_runtime import ServiceDefinition
from mandi_runtime.redis import redis_unavailable

__all__ = ["DEFINITION"]


def _plans(document: dict[str, Any], settings: Settings) -> None:
    """Lists the deployment's plans as the values a key's `plan` may take."""
    plan = document["components"]["schemas"]["IssueApiKeyIn"]["properties"]["plan"]
    plan["enum"] = sorted(settings.plans)


DEFINITION = ServiceDefinition(
    name="auth",
    settings=Settings,
    build=build,
    routers=[router],
    migrations=resources.files("mandi_auth") / "migrations",
    topic=events_topic("auth"),
    commands=COMMANDS,
    unavailable=[redis_unavailable],
    amendments=[_plans],
    # The gateway asks before each request: answered outside every middleware.
    fast_paths=[AuthorizeFastPath],
    publishes=AUTH_EVENTS,
)
