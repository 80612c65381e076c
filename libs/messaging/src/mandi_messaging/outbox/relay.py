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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from mandi_messaging.envelope import HEADER_NAMES, kafka_headers  # noqa: F401 - order documented
from mandi_messaging.outbox.housekeeping import prune_inbox
from mandi_messaging.producer import BatchPublisher, OutgoingMessage
from mandi_messaging.schema import NOTIFY_CHANNEL
from mandi_observability.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_DURATION,
    OUTBOX_PUBLISHED,
)

__all__ = ["OutboxRelay", "measure_backlog"]

_log = logging.getLogger(__name__)
# Two-key advisory locks do not share a key space with the writers' one-key locks.
_LEADER_LOCK = (0x4D414E44, 1)  # "MAND", relay
# One round trip per batch: delete what Kafka acknowledged and read the next rows, skipping the
# rows still in Kafka's hands. The SELECT sees the snapshot before the DELETE, so it skips the
# deleted ids too. The header values come back as bytes in HEADER_NAMES order: encoding them
# here runs on the database's core, leaving the relay's to Kafka.
_DELETE_AND_SELECT = """
    WITH published AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]))
    SELECT id, topic, convert_to(message_key, 'UTF8'), payload, ARRAY[
        convert_to(event_id::text, 'UTF8'),
        convert_to(source, 'UTF8'),
        convert_to(event_type, 'UTF8'),
        convert_to(
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8'
        ),
        convert_to(message_key, 'UTF8'),
        convert_to(tenant_id, 'UTF8'),
        convert_to(correlation_id, 'UTF8'),
        convert_to(causation_id, 'UTF8'),
        convert_to(traceparent, 'UTF8')
    ]
    FROM outbox WHERE id NOT IN (SELECT unnest($2::bigint[])) ORDER BY id LIMIT $3
"""
_DELETE_PUBLISHED = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"
_BACKLOG = """
    SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)
    FROM outbox
"""


def _message(row: asyncpg.Record) -> OutgoingMessage:
    _, topic, key, payload, header_values = row  # the id stays with the batch, in _send
    return OutgoingMessage(topic, key, payload, kafka_headers(header_values))


async def measure_backlog(connection: asyncpg.Connection) -> tuple[int, float]:
    """Events waiting in the outbox, and the age in seconds of the oldest (0 when empty)."""
    row = await connection.fetchrow(_BACKLOG)  # an aggregate: always exactly one row
    return (int(row[0]), float(row[1])) if row is not None else (0, 0.0)


@dataclass(frozen=True, slots=True)
class _InFlight:
    """A batch handed to Kafka and not yet acknowledged."""

    ids: list[int]
    messages: list[OutgoingMessage]
    acknowledgement: asyncio.Future[list[object]]
    sent_at: float


class OutboxRelay:
    """Moves one database's outbox to Kafka; run it as a task for the life of the process.

    `on_acknowledged` is called with each batch once Kafka has acknowledged it and before its
    rows are deleted: the moment an event counts as published.
    """

    def __init__(
        self,
        *,
        dsn: str,
        producer: AIOKafkaProducer,
        service: str,
        password: str | None = None,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        standby_interval: float = 2.0,
        report_interval: float = 5.0,
        inbox_retention: timedelta = timedelta(days=14),
        housekeeping_interval: float = 3600.0,
        on_acknowledged: Callable[[Sequence[OutgoingMessage]], None] | None = None,
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
        self._on_acknowledged = on_acknowledged
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
        # Pipelined: while Kafka acknowledges one batch, the next is read and encoded. It is sent
        # only after that acknowledgement, so a failed batch is never overtaken by the next one.
        acknowledged: list[int] = []  # acknowledged by Kafka, deleted by the next round trip
        in_flight: _InFlight | None = None
        while not self._stopping.is_set():
            self._wake.clear()  # before reading, so a commit during the batch is not missed
            skipped = acknowledged + (in_flight.ids if in_flight else [])
            rows = await connection.fetch(
                _DELETE_AND_SELECT, acknowledged, skipped, self._batch_size
            )
            messages = [_message(row) for row in rows]
            acknowledged = await self._settle(in_flight)
            in_flight = await self._send(rows, messages) if rows else None
            await self._chores(connection)  # due at most every few seconds, busy or not
            if len(rows) < self._batch_size:  # caught up: settle now rather than a cycle later
                acknowledged += await self._settle(in_flight)
                in_flight = None
                if not self._wake.is_set():  # nothing committed meanwhile: tidy up, then wait
                    await self._delete(connection, acknowledged)
                    acknowledged = []
                    await self._sleep_until_woken()
        await self._delete(connection, acknowledged + await self._settle(in_flight))

    async def _send(
        self, rows: Sequence[asyncpg.Record], messages: list[OutgoingMessage]
    ) -> _InFlight:
        """Hands a batch to Kafka; its acknowledgement is awaited by `_settle`."""
        acknowledgement = await self._publisher.send(messages)
        return _InFlight(
            [row["id"] for row in rows], messages, acknowledgement, time.perf_counter()
        )

    async def _settle(self, in_flight: _InFlight | None) -> list[int]:
        """Waits for a batch's acknowledgement; returns its ids, now safe to delete."""
        if in_flight is None:
            return []
        await in_flight.acknowledgement
        if self._on_acknowledged is not None:
            self._on_acknowledged(in_flight.messages)
        OUTBOX_PUBLISHED.labels(self._service).inc(len(in_flight.ids))
        OUTBOX_PUBLISH_DURATION.labels(self._service).observe(
            time.perf_counter() - in_flight.sent_at
        )
        return in_flight.ids

    @staticmethod
    async def _delete(connection: asyncpg.Connection, ids: list[int]) -> None:
        if ids:
            await connection.execute(_DELETE_PUBLISHED, ids)

    async def _sleep_until_woken(self) -> None:
        # Polling as well: a lost notification delays events by one interval, never more.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)

    async def _chores(self, connection: asyncpg.Connection) -> None:
        now = time.monotonic()
        if now >= self._next_report:
            self._next_report = now + self._report_interval
            waiting, oldest_age = await measure_backlog(connection)
            OUTBOX_BACKLOG.labels(self._service).set(waiting)
            OUTBOX_OLDEST_AGE.labels(self._service).set(oldest_age)
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + self._housekeeping_interval
            pruned = await prune_inbox(connection, self._inbox_retention)
            if pruned:
                _log.info("inbox housekeeping removed %d message ids", pruned)
