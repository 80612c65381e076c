"""The matching service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources

from mandi_contracts import MATCHING_EVENTS
from mandi_matching.bootstrap import build
from mandi_matching.config import Settings
from mandi_matching.entrypoints.consumers import consumers
from mandi_matching.entrypoints.http.routes import router
from mandi_messaging import events_topic
from mandi_runtime import ServiceDefinition

__all__ = ["DEFINITION"]

DEFINITION = ServiceDefinition(
    name="matching",
    settings=Settings,
    build=build,
    routers=[router],
    migrations=resources.files("mandi_matching") / "migrations",
    topic=events_topic("matching"),
    consumers=[consumers],
    publishes=MATCHING_EVENTS,
)
