"""Publishes outbox rows to Kafka in id order, then deletes them; one active relay per database.

The relay that holds the session advisory lock publishes; any other waits and takes over when
the holder's connection ends. It wakes on NOTIFY at commit and polls as a fallback. A crash
between Kafka's acknowledgement and the delete publishes a batch twice: consumers' inboxes
absorb the duplicates, and nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from mandi_observability.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_DURATION,
    OUTBOX_PUBLISHED,
)

from mandi_messaging.envelope import Envelope
from mandi_messaging.outbox.housekeeping import prune_inbox
from mandi_messaging.producer import BatchPublisher, OutgoingMessage
from mandi_messaging.schema import NOTIFY_CHANNEL

__all__ = ["OutboxRelay"]

_log = logging.getLogger(__name__)
# Two-key advisory locks do not share a key space with the writers' one-key locks.
_LEADER_LOCK = (0x4D414E44, 1)  # "MAND", relay
_SELECT_BATCH = """
    SELECT id, event_id, topic, message_key, event_type, source, occurred_at, tenant_id,
           correlation_id, causation_id, traceparent, payload
    FROM outbox ORDER BY id LIMIT $1
"""
_DELETE_PUBLISHED = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"
_BACKLOG = """
    SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)
    FROM outbox
"""


def _message(row: asyncpg.Record) -> OutgoingMessage:
    envelope = Envelope(
        id=str(row["event_id"]),
        source=row["source"],
        type=row["event_type"],
        subject=row["message_key"],
        data=row["payload"],
        time=row["occurred_at"],
        tenant_id=row["tenant_id"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        traceparent=row["traceparent"],
    )
    return OutgoingMessage(
        topic=row["topic"],
        key=envelope.subject.encode(),
        value=envelope.data,
        headers=envelope.kafka_headers(),
    )


class OutboxRelay:
    """Moves one database's outbox to Kafka; run it as a task for the life of the process."""

    def __init__(
        self,
        *,
        dsn: str,
        producer: AIOKafkaProducer,
        service: str,
        password: str | None = None,
        batch_size: int = 2000,
        poll_interval: float = 1.0,
        standby_interval: float = 2.0,
        report_interval: float = 5.0,
        inbox_retention: timedelta = timedelta(days=14),
        housekeeping_interval: float = 3600.0,
    ) -> None:
        self._dsn, self._password = dsn, password
        self._publisher = BatchPublisher(producer)
        self._service = service
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._standby_interval = standby_interval
        self._report_interval = report_interval
        self._inbox_retention = inbox_retention
        self._housekeeping_interval = housekeeping_interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._next_report = 0.0
        self._next_housekeeping = 0.0

    async def run(self) -> None:
        """Leads when it can, stands by when another relay leads, recovers from lost connections."""
        while not self._stopping.is_set():
            try:
                await self._lead_or_stand_by()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError) as error:
                _log.warning("outbox relay interrupted, retrying: %s", error.__class__.__name__)
                await self._pause(self._standby_interval)

    def stop(self) -> None:
        """Asks `run` to return after the batch in flight, so a planned stop duplicates nothing."""
        self._stopping.set()
        self._wake.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _lead_or_stand_by(self) -> None:
        connection = await asyncpg.connect(self._dsn, password=self._password)
        try:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", *_LEADER_LOCK):
                await self._pause(self._standby_interval)
                return
            _log.info("outbox relay leads for %s", self._service)
            await connection.add_listener(NOTIFY_CHANNEL, self._on_notify)
            await self._publish_forever(connection)
        finally:
            await connection.close()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _publish_forever(self, connection: asyncpg.Connection) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before reading, so a commit during the batch is not missed
            published = await self.publish_batch(connection)
            await self._chores(connection)
            if published < self._batch_size:
                await self._sleep_until_woken()

    async def _sleep_until_woken(self) -> None:
        # Polling as well: a lost notification delays events by one interval, never more.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)

    async def publish_batch(self, connection: asyncpg.Connection) -> int:
        """Publishes the oldest rows, waits for Kafka's acknowledgement, deletes them."""
        started = time.perf_counter()
        rows = await connection.fetch(_SELECT_BATCH, self._batch_size)
        if not rows:
            return 0
        await self._send(rows)
        await connection.execute(_DELETE_PUBLISHED, [row["id"] for row in rows])
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        OUTBOX_PUBLISH_DURATION.labels(self._service).observe(time.perf_counter() - started)
        return len(rows)

    async def _send(self, rows: Sequence[asyncpg.Record]) -> None:
        await self._publisher.publish(_message(row) for row in rows)

    async def _chores(self, connection: asyncpg.Connection) -> None:
        now = time.monotonic()
        if now >= self._next_report:
            self._next_report = now + self._report_interval
            backlog, oldest_age = await connection.fetchrow(_BACKLOG)
            OUTBOX_BACKLOG.labels(self._service).set(backlog)
            OUTBOX_OLDEST_AGE.labels(self._service).set(float(oldest_age))
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + self._housekeeping_interval
            pruned = await prune_inbox(connection, self._inbox_retention)
            if pruned:
                _log.info("inbox housekeeping removed %d message ids", pruned)
