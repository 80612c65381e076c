"""A service's command line, the same for every service: `serve`, `migrate` and its own.

    python -m mandi_<svc> serve       # its HTTP API, relay, loops and jobs (and consumers)
    python -m mandi_<svc> migrate     # its database to the newest revision, as the owner role
    python -m mandi_<svc> <command>   # one of the service's own, run as one traced operation

A bad configuration or a taken port ends a command with one line; a refusal of the domain too.
"""

from __future__ import annotations

import argparse
from typing import Any

from mandi_config import load_settings, run_or_exit
from mandi_observability import configure_logging
from mandi_runtime.commands import migrate, run_operation, serve
from mandi_runtime.service import Command, ServiceDefinition, running

__all__ = ["service_main"]


def service_main(definition: ServiceDefinition[Any, Any], argv: list[str] | None = None) -> None:
    """Parses the command line and runs one command of the service."""
    args = _parser(definition).parse_args(argv)

    def run() -> None:
        settings = load_settings(definition.settings)
        configure_logging(settings.service_name, level=settings.log_level)
        if args.command == "serve":
            serve(settings, definition.app_factory, workers=settings.http_workers)
        elif args.command == "migrate":
            migrate(settings, definition.migrations)
        else:
            command = _commands(definition)[args.command]
            name = f"{definition.name}.{command.name.replace('-', '_')}"
            run_operation(settings, name, lambda: _run(definition, settings, command, args))

    run_or_exit(run)


async def _run(
    definition: ServiceDefinition[Any, Any], settings: Any, command: Command[Any, Any], args: Any
) -> None:
    async with running(definition, settings, background=False) as service:
        await command.run(service, args)


def _commands(definition: ServiceDefinition[Any, Any]) -> dict[str, Command[Any, Any]]:
    return {command.name: command for command in definition.commands}


def _parser(definition: ServiceDefinition[Any, Any]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m mandi_{definition.name}", description=f"Mandi's {definition.name} service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API and everything beside it")
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    for command in definition.commands:
        command.arguments(commands.add_parser(command.name, help=command.help))
    return parser
