"""The consuming pipeline: decode, apply once (inbox), retry with backoff, else dead-letter.

A handler's effects and the message id commit in one transaction, so a redelivered message
changes nothing. Failures are retried a bounded number of times inside the consumer; then the
message goes to `<topic>.dlq` with its reason and the partition moves on. A message that cannot
be decoded can never succeed, so it is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from enum import StrEnum
from typing import Any

from aiokafka import ConsumerRecord
from opentelemetry.trace import SpanKind

from mandi_db import Transaction
from mandi_messaging.dead_letters import DeadLetterPublisher
from mandi_messaging.envelope import Envelope, MalformedEnvelope
from mandi_messaging.inbox import claim_message
from mandi_messaging.registry import Event, EventRegistry, UndecodableEvent, UnknownEventType
from mandi_messaging.retry import PermanentFailure, RetryPolicy
from mandi_observability import bound_context
from mandi_observability.metrics import CONSUMER_HANDLER_OUTCOMES
from mandi_observability.tracing import context_from_traceparent, tracer

__all__ = ["EventConsumer", "Handler", "Outcome", "UnitOfWorkFactory"]

_log = logging.getLogger(__name__)
_UNDECODABLE = (MalformedEnvelope, UnknownEventType, UndecodableEvent)

Handler = Callable[[Event, Envelope, Any], Awaitable[None]]
UnitOfWorkFactory = Callable[[str | None], AbstractAsyncContextManager[Transaction]]


class Outcome(StrEnum):
    """What became of one message."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


class EventConsumer:
    """Applies each message of a consumer group exactly once, or dead-letters it with the reason."""

    def __init__(
        self,
        *,
        group: str,
        registry: EventRegistry,
        unit_of_work: UnitOfWorkFactory,
        handler: Handler,
        dead_letters: DeadLetterPublisher,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.group = group
        self._registry = registry
        self._unit_of_work = unit_of_work
        self._handler = handler
        self._dead_letters = dead_letters
        self._retry = retry or RetryPolicy()

    async def handle(self, record: ConsumerRecord) -> Outcome:
        """Handles one record; raises only when even the dead-letter topic cannot be written."""
        outcome = await self._decode_and_apply(record)
        CONSUMER_HANDLER_OUTCOMES.labels(self.group, record.topic, outcome.value).inc()
        return outcome

    async def _decode_and_apply(self, record: ConsumerRecord) -> Outcome:
        try:
            envelope = Envelope.from_kafka(record.headers, record.value)
            event = self._registry.decode(envelope.type, envelope.data)
        except _UNDECODABLE as error:
            return await self._dead_letter(record, error, attempts=1)
        with _observed(envelope, record.topic):
            return await self._apply_with_retries(record, envelope, event)

    async def _apply_with_retries(
        self, record: ConsumerRecord, envelope: Envelope, event: Event
    ) -> Outcome:
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return await self._apply_once(envelope, event)
            except PermanentFailure as error:
                return await self._dead_letter(record, error, attempts=attempt)
            except Exception as error:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                failure = error
                _log.warning(
                    "handler failed (attempt %d of %d): %s",
                    attempt,
                    self._retry.attempts,
                    type(error).__name__,
                )
                CONSUMER_HANDLER_OUTCOMES.labels(self.group, record.topic, "retried").inc()
                if attempt < self._retry.attempts:
                    await asyncio.sleep(self._retry.backoff(attempt))
        return await self._dead_letter(record, failure, attempts=self._retry.attempts)

    async def _apply_once(self, envelope: Envelope, event: Event) -> Outcome:
        async with self._unit_of_work(envelope.tenant_id) as uow:
            if not await claim_message(uow.session, self.group, envelope.id):
                return Outcome.DUPLICATE
            await self._handler(event, envelope, uow)
            await uow.commit()
        return Outcome.PROCESSED

    async def _dead_letter(
        self, record: ConsumerRecord, error: BaseException, *, attempts: int
    ) -> Outcome:
        await self._dead_letters.publish(record, error, attempts=attempts)
        _log.error("message dead-lettered after %d attempt(s): %s", attempts, type(error).__name__)
        return Outcome.DEAD_LETTERED


@contextmanager
def _observed(envelope: Envelope, topic: str) -> Iterator[None]:
    """A consumer span, child of the producer's trace, with the envelope's ids bound for logs."""
    span = tracer(__name__).start_as_current_span(
        f"{topic} process",
        context=context_from_traceparent(envelope.traceparent),
        kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.message.id": envelope.id},
    )
    ids = bound_context(
        tenant_id=envelope.tenant_id,
        correlation_id=envelope.correlation_id or envelope.id,
        causation_id=envelope.id,
    )
    with span, ids:
        yield
