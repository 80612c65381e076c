"""Starting a process: a bad configuration or an unreachable dependency ends it with one line."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

from mandi_config.errors import ConfigurationError

__all__ = ["EXIT_STARTUP_FAILURE", "StartupError", "run_or_exit"]

EXIT_STARTUP_FAILURE = 2


class StartupError(Exception):
    """The process cannot start (Kafka unreachable, port taken, …); the message says why."""


_FAILURES = (ConfigurationError, StartupError)


def run_or_exit(main: Callable[[], Awaitable[None]] | Callable[[], None]) -> None:
    """Runs main (awaiting it if async); a start-up failure prints `error: …` and exits with 2."""
    try:
        _run(main)
    except _FAILURES as error:
        _exit_with(error)
    except ExceptionGroup as group:
        # A task group starting several components wraps their failures in a group.
        failures, others = group.split(_FAILURES)
        if failures is None or others is not None:
            raise
        _exit_with(_first_leaf(failures))


def _run(main: Callable[[], Awaitable[None]] | Callable[[], None]) -> None:
    outcome = main()
    if inspect.isawaitable(outcome):
        asyncio.run(_wait_for(outcome))


async def _wait_for(outcome: Awaitable[None]) -> None:
    await outcome


def _first_leaf(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _exit_with(error: Exception) -> NoReturn:
    # No traceback: an operator reads this line, and a stack says nothing about what to set.
    message = " ".join(str(error).split())
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_STARTUP_FAILURE) from None
