"""How every Mandi service runs: the common parts of its HTTP app, its serve and migrate."""

from mandi_runtime.app import ReadinessCheck, create_service_app
from mandi_runtime.commands import (
    EXIT_REFUSED,
    migrate,
    require_free_port,
    run_operation,
    serve,
)
from mandi_runtime.jobs import run_periodically

__all__ = [
    "EXIT_REFUSED",
    "ReadinessCheck",
    "create_service_app",
    "migrate",
    "require_free_port",
    "run_operation",
    "run_periodically",
    "serve",
]
