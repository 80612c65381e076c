"""The risk service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources

from mandi_contracts import RISK_EVENTS, RISK_REPLIES
from mandi_messaging import events_topic
from mandi_risk.bootstrap import build
from mandi_risk.config import Settings
from mandi_risk.entrypoints.commands import COMMANDS
from mandi_risk.entrypoints.consumers import consumers
from mandi_risk.entrypoints.http.routes import router
from mandi_runtime import ServiceDefinition

__all__ = ["DEFINITION"]

DEFINITION = ServiceDefinition(
    name="risk",
    settings=Settings,
    build=build,
    routers=[router],
    migrations=resources.files("mandi_risk") / "migrations",
    topic=events_topic("risk"),
    consumers=[consumers],
    publishes=RISK_EVENTS,
    replies=RISK_REPLIES,
    commands=COMMANDS,
)
