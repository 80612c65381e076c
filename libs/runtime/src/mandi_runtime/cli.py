"""A service's command line, the same for every service: `serve`, `migrate` and its own.

    python -m mandi_<svc> serve       # its HTTP API, relay, loops and jobs (and consumers)
    python -m mandi_<svc> migrate     # its database to the newest revision, as the owner role
    python -m mandi_<svc> consume     # its consumer groups alone, in a process of their own
    python -m mandi_<svc> asyncapi    # its AsyncAPI document: what it consumes and publishes
    python -m mandi_<svc> <command>   # one of the service's own, run as one traced operation

A bad configuration or a taken port ends a command with one line; a refusal of the domain too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from mandi_config import load_settings, run_or_exit
from mandi_observability import configure_logging, configure_tracing, get_logger
from mandi_runtime.asyncapi import asyncapi_of
from mandi_runtime.commands import migrate, run_operation, serve
from mandi_runtime.service import Command, ServiceDefinition, running

__all__ = ["service_main"]

_log = get_logger("mandi.runtime")


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
        elif args.command == "consume":
            configure_tracing(settings.service_name, otlp_endpoint=settings.otlp_endpoint)
            asyncio.run(_consume(definition, settings))
        elif args.command == "asyncapi":
            _write_asyncapi(definition, args.output)
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


async def _consume(definition: ServiceDefinition[Any, Any], settings: Any) -> None:
    """Runs the service's consumer groups, and nothing else, until SIGTERM or SIGINT."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopped.set)
    if settings.consume_metrics_port:
        start_http_server(settings.consume_metrics_port, addr=settings.http_host)
    async with running(definition, settings, background=False, consume=True):
        _log.info("consuming", groups=[group.group for group in definition.consumers])
        await stopped.wait()


def _write_asyncapi(definition: ServiceDefinition[Any, Any], output: str | None) -> None:
    text = json.dumps(asyncapi_of(definition), indent=2, sort_keys=True) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)


def _commands(definition: ServiceDefinition[Any, Any]) -> dict[str, Command[Any, Any]]:
    return {command.name: command for command in definition.commands}


def _parser(definition: ServiceDefinition[Any, Any]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m mandi_{definition.name}", description=f"Mandi's {definition.name} service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API and everything beside it")
    commands.add_parser("migrate", help="upgrade the database to the newest migration")
    commands.add_parser("consume", help="run the consumer groups only (no HTTP, no relay)")
    asyncapi = commands.add_parser("asyncapi", help="print or write the AsyncAPI document")
    asyncapi.add_argument("--output", help="the file to write (default: stdout)")
    for command in definition.commands:
        command.arguments(commands.add_parser(command.name, help=command.help))
    return parser
