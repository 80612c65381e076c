"""The partners service's commands: serve, migrate, reseal.

python -m mandi_partners serve
python -m mandi_partners migrate
python -m mandi_partners reseal     # re-encrypt every sealed value under the newest key now
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mandi_config import load_settings, run_or_exit
from mandi_observability import configure_logging
from mandi_partners.bootstrap import running_service
from mandi_partners.config import Settings
from mandi_partners.service_layer.verifying import reseal_all
from mandi_runtime import migrate, run_operation, serve

__all__ = ["APP_FACTORY", "MIGRATIONS", "main"]

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
APP_FACTORY = "mandi_partners.entrypoints.http.app:create_app"


async def _reseal(settings: Settings) -> None:
    async with running_service(settings, background=False) as service:
        count = await reseal_all(service.deps, settings.rekey_batch_size)
    print(f"re-encrypted {count} rows under the newest key")  # noqa: T201


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mandi_partners", description="Mandi's partners service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API, the outbox relay and background jobs")
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    commands.add_parser("reseal", help="re-encrypt sealed values made with older keys, now")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Runs one command; bad configuration or a taken port ends it with one line."""
    args = _arguments(argv)

    def run() -> None:
        settings = load_settings(Settings)
        configure_logging(settings.service_name, level=settings.log_level)
        if args.command == "serve":
            serve(settings, APP_FACTORY, workers=settings.http_workers)
        elif args.command == "migrate":
            migrate(settings, MIGRATIONS)
        else:
            run_operation(settings, "partners.reseal", lambda: _reseal(settings))

    run_or_exit(run)
