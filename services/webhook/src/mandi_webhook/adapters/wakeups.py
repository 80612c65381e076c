"""Wakes the dispatcher when deliveries are made: PostgreSQL's NOTIFY, sent by a trigger when
deliveries are inserted (and by a replay), reaches every replica's listener on commit.

A lost connection is opened again; meanwhile the dispatcher still polls, so a wake-up missed
costs at most a poll interval, never a delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg

from mandi_observability import get_logger

__all__ = ["CHANNEL", "listen_for_deliveries"]

CHANNEL = "webhook_deliveries"
_log = get_logger("mandi.webhook.wakeups")
_CHECK_SECONDS = 30.0  # a silent connection is checked this often, to notice it is gone
_RECONNECT_SECONDS = 1.0


async def listen_for_deliveries(dsn: str, password: str | None, wake: Callable[[], None]) -> None:
    """Calls `wake` on every notification, for as long as it runs."""
    while True:
        try:
            connection = await asyncpg.connect(dsn, password=password)
            try:
                await connection.add_listener(CHANNEL, lambda *_: wake())
                wake()  # what was committed while no one listened
                while True:
                    await asyncio.sleep(_CHECK_SECONDS)
                    await connection.execute("SELECT 1")
            finally:
                await connection.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            _log.warning("listening for deliveries interrupted", error=type(error).__name__)
            await asyncio.sleep(_RECONNECT_SECONDS)
