"""Keeps the inbox from growing forever: message ids older than the retention are forgotten.

The retention must outlast any redelivery: Kafka's own retention of the topics read, plus the
longest time a consumer may be down. Deleting in chunks keeps each transaction short.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

__all__ = ["prune_inbox"]

_CHUNK = 10_000
_DELETE_CHUNK = """
    DELETE FROM inbox WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM inbox WHERE received_at < clock_timestamp() - $1::interval LIMIT $2
    ))
"""


async def prune_inbox(connection: asyncpg.Connection, retention: timedelta) -> int:
    """Deletes inbox rows older than `retention`; returns how many."""
    total = 0
    while True:
        status = await connection.execute(_DELETE_CHUNK, retention, _CHUNK)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < _CHUNK:
            return total
