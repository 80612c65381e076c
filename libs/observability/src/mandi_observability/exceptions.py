"""An exception as a log line shows it: the traceback, with database drivers' messages withheld.

A driver's message may quote a statement's values ("invalid input for query argument $1:
'…'", "Key (email)=(…) already exists"), and those values may be secrets or personal data that
no redaction pattern knows. So a log line keeps the type, the SQLSTATE and where it was raised,
and leaves out what the driver said.
"""

from __future__ import annotations

import traceback
from types import TracebackType

__all__ = ["format_exception_safely"]

# Modules whose exceptions' messages may quote statement values.
_QUOTING_MODULES = ("asyncpg", "sqlalchemy", "psycopg")
_WITHHELD = "[message withheld: a database error may quote the statement's values]"
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_exception_safely(error: BaseException) -> str:
    """Python's rendering of an exception and its causes, without drivers' messages."""
    return "".join(_chain(error, seen=set()))


def _chain(error: BaseException, seen: set[int]) -> list[str]:
    seen.add(id(error))
    parts: list[str] = []
    cause, context = error.__cause__, error.__context__
    if cause is not None and id(cause) not in seen:
        parts += [*_chain(cause, seen), _CAUSE]
    elif context is not None and id(context) not in seen and not error.__suppress_context__:
        parts += [*_chain(context, seen), _CONTEXT]
    return parts + _one(error, error.__traceback__)


def _one(error: BaseException, frames: TracebackType | None) -> list[str]:
    lines = ["Traceback (most recent call last):\n", *traceback.format_tb(frames)] if frames else []
    return [*lines, f"{_name(type(error))}: {_message(error)}\n"]


def _name(kind: type[BaseException]) -> str:
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _message(error: BaseException) -> str:
    if not type(error).__module__.startswith(_QUOTING_MODULES):
        return str(error)
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return f"{_WITHHELD} (SQLSTATE {sqlstate})" if sqlstate else _WITHHELD
