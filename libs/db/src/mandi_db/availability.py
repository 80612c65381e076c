"""Telling a database that is away (restarting, refusing, overloaded) from a request gone wrong.

A service answers the first with 503 and `Retry-After`: the client's request was fine and will
work again shortly. Anything else a statement raises is a fault of ours, answered 500.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc

__all__ = ["database_unavailable"]

# What PostgreSQL or the network says while the server restarts, shuts down or is full.
_SERVER_AWAY = (
    OSError,  # refused, reset, timed out (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,  # class 08: the connection broke
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: terminated by a restart
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    exc.TimeoutError,  # no pooled connection came free in time
    exc.DisconnectionError,
    # A pooled connection whose server went away mid-statement is left in asyncpg's "failed"
    # protocol state; the next statement on it raises this before reaching the server.
    asyncpg.InternalClientError,
)


def database_unavailable(error: BaseException) -> bool:
    """Whether an error means the database could not be reached, not that a statement failed."""
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig.__cause__ if error.orig is not None else None
        return _server_away(error.orig) or _server_away(cause)
    return _server_away(error)


def _server_away(error: BaseException | None) -> bool:
    return error is not None and isinstance(error, _SERVER_AWAY)
