"""How every Mandi service runs: its life (resources, relay, jobs), its HTTP app and commands.

A service says what it is once (`ServiceDefinition`) and builds its own adapters (`build`);
the runtime owns everything else. docs/new-service.md shows the template, file by file.
"""

from mandi_runtime.app import ReadinessCheck, app_of, create_service_app
from mandi_runtime.asyncapi import asyncapi_of
from mandi_runtime.cli import service_main
from mandi_runtime.clock import Clock, SystemClock
from mandi_runtime.commands import (
    EXIT_REFUSED,
    migrate,
    require_free_port,
    run_operation,
    serve,
)
from mandi_runtime.jobs import run_periodically
from mandi_runtime.leadership import LeaderLock
from mandi_runtime.service import (
    Command,
    PeriodicJob,
    Resources,
    RunningService,
    ServiceDefinition,
    Wiring,
    running,
    settle_the_heap,
)

__all__ = [
    "EXIT_REFUSED",
    "Clock",
    "Command",
    "LeaderLock",
    "PeriodicJob",
    "ReadinessCheck",
    "Resources",
    "RunningService",
    "ServiceDefinition",
    "SystemClock",
    "Wiring",
    "app_of",
    "asyncapi_of",
    "create_service_app",
    "migrate",
    "require_free_port",
    "run_operation",
    "run_periodically",
    "running",
    "serve",
    "service_main",
    "settle_the_heap",
]
