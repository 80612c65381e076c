"""Starting a process: a bad configuration or an unreachable dependency ends it with one line."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable

from mandi_config.secrets import ConfigurationError

__all__ = ["EXIT_STARTUP_FAILURE", "StartupError", "run_or_exit"]

EXIT_STARTUP_FAILURE = 2


class StartupError(Exception):
    """The process cannot start (Kafka unreachable, port taken, …); the message says why, in one line."""


def run_or_exit(main: Callable[[], Awaitable[None]] | Callable[[], None]) -> None:
    """Runs the process's main; known start-up failures print `error: …` and exit with status 2."""
    try:
        if inspect.iscoroutinefunction(main):
            asyncio.run(main())
        else:
            main()
    except (ConfigurationError, StartupError) as error:
        message = " ".join(str(error).split())  # one line, whatever the exception held
        print(f"error: {message}", file=sys.stderr)  # noqa: T201 - the one line an operator reads
        raise SystemExit(EXIT_STARTUP_FAILURE) from None
