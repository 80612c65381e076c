"""The availability service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources

from mandi_availability.bootstrap import build
from mandi_availability.config import Settings
from mandi_availability.entrypoints.consumers import consumers
from mandi_availability.entrypoints.http.routes import router
from mandi_contracts import AVAILABILITY_EVENTS, AVAILABILITY_REPLIES
from mandi_messaging import events_topic
from mandi_runtime import ServiceDefinition
from mandi_runtime.redis import redis_unavailable
from mandi_runtime.requests import require_if_match

__all__ = ["DEFINITION"]

DEFINITION = ServiceDefinition(
    name="availability",
    settings=Settings,
    build=build,
    routers=[router],
    migrations=resources.files("mandi_availability") / "migrations",
    topic=events_topic("availability"),
    amendments=[require_if_match],
    unavailable=[redis_unavailable],
    consumers=[consumers],
    publishes=AVAILABILITY_EVENTS,
    replies=AVAILABILITY_REPLIES,
)
