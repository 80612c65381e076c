"""The audit service, said once: what the runtime needs to run it."""

from __future__ import annotations

from importlib import resources

from mandi_audit.bootstrap import build
from mandi_audit.config import Settings
from mandi_audit.entrypoints.consumers import journal
from mandi_audit.entrypoints.http.routes import router
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_runtime import RunningService, ServiceDefinition

__all__ = ["DEFINITION", "AuditRunning"]

AuditRunning = RunningService[Settings, AuditDependencies]

DEFINITION = ServiceDefinition(
    name="audit",
    settings=Settings,
    build=build,
    routers=[router],
    consumers=[journal],
    migrations=resources.files("mandi_audit") / "migrations",
)
