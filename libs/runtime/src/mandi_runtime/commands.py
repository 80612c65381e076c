"""The commands every service has: `serve` its HTTP API and `migrate` its database; and how
any other command runs its work (`run_operation`)."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable
from importlib import resources
from importlib.resources.abc import Traversable

import uvicorn

from mandi_config import ServiceSettings, StartupError
from mandi_db.migrations import alembic_config, upgrade
from mandi_errors import DomainError
from mandi_observability import configure_tracing, started_operation

__all__ = ["EXIT_REFUSED", "migrate", "require_free_port", "run_operation", "serve"]

EXIT_REFUSED = 1  # the command ran and the domain refused it (start-up failures exit with 2)


def require_free_port(host: str, port: int, variable: str) -> None:
    """StartupError naming the variable that moves the port, when something holds it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(
                f"port {port} is taken ({error.strerror}); set {variable}"
            ) from error


def serve(settings: ServiceSettings, app_factory: str, *, workers: int = 1) -> None:
    """Runs the app that `module:function` builds, with uvloop and httptools, until stopped."""
    prefix = f"MANDI_{settings.service_name.upper()}_"
    require_free_port(settings.http_host, settings.http_port, f"{prefix}HTTP_PORT")
    configure_tracing(settings.service_name, otlp_endpoint=settings.otlp_endpoint)
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        workers=workers,
        log_config=None,  # the service's own JSON logging
        access_log=False,  # the request middleware writes the access log
        loop="uvloop",
        http="httptools",
    )


def migrate(settings: ServiceSettings, migrations: Traversable) -> None:
    """Upgrades the service's database to its newest migration, as the owner role.

    `migrations` is the folder in the service's package (`importlib.resources.files`), so it is
    found wherever the package is installed.
    """
    if not migrations.is_dir():
        raise StartupError(f"no migrations folder at {migrations}")
    password = settings.migration_database_password
    with resources.as_file(migrations) as folder:
        config = alembic_config(
            folder,
            settings.migration_database_url,
            password=password.get_secret_value() if password else None,
        )
        upgrade(config)
    print(f"{settings.service_name}: database migrated to the newest revision")  # noqa: T201


def run_operation(
    settings: ServiceSettings, name: str, work: Callable[[], Awaitable[None]]
) -> None:
    """Runs a command's work to its end as one traced operation with its own correlation id.

    The events it causes carry that trace and correlation id, as those of a request do. A
    refusal of the domain (no such tenant, a conflict) ends the command with its one line.
    """
    configure_tracing(settings.service_name, otlp_endpoint=settings.otlp_endpoint)

    async def traced() -> None:
        with started_operation(name):
            await work()

    try:
        asyncio.run(traced())
    except DomainError as refusal:
        sys.stderr.write(f"error: {refusal.detail}\n")
        raise SystemExit(EXIT_REFUSED) from None
