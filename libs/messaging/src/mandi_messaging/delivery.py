"""A consumer group's messages: each applied once, in order per key, or dead-lettered with why.

Kafka hands the group a poll's records at a time. Consecutive events of one tenant that decode
are applied together in one transaction: each claimed in the inbox (or parked) and handled in its
own context, then one commit for them all, since the commit and the handler's bookkeeping cost
more than one command's statements. If anything in that transaction fails, it is rolled back
and its records are taken one at a time, as every other record is. For each such record,
the pipeline

1. reads the envelope: a record that is not our CloudEvent is dead-lettered at once;
2. skips replays and discards addressed to another group, and events no handler here takes;
3. decodes the newest model and the tenant: an unknown type or version, data that does not fit,
   or no valid tenant can never succeed, so the record is dead-lettered without retries;
4. in one transaction of the unit of work opened for the event's tenant, parks the record if its
   key waits behind a dead letter (`sequencing.py`), or else claims it in the inbox, runs the
   handler and commits: the effects and the message id commit together, so a redelivery
   changes nothing;
5. retries failed attempts with tenacity's exponential backoff and jitter, then gives up: the
   record goes to the dead-letter topic with the reason, and its key waits for it;
6. when the record was the dead letter its key waited for (a replay), or an operator discarded
   that dead letter, applies the messages parked behind it, in order.

The caller commits the poll's offsets once its records' outcomes are durable (`offsets_to_commit`).

It all runs in the event's context: a consumer span, child of the producer's `traceparent`, and
the correlation id, causation id (the event's id) and tenant bound, so whatever the handler logs
or writes to its outbox carries them. A database that cannot be reached is not the message's
fault: the error propagates and the message is read again instead of being dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple, Protocol, TypeVar
from uuid import UUID

from aiokafka import ConsumerRecord, TopicPartition
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import async_sessionmaker
from tenacity import RetryCallState

from mandi_db import TenantAwareSession, TenantlessUnitOfWork, Transaction, UnitOfWork
from mandi_db.availability import database_unavailable
from mandi_messaging.dead_letters import addressed_elsewhere, dead_letter_reason, is_discard
from mandi_messaging.decoding import UNDECODABLE, DecodedEvent, decode_event, read_envelope
from mandi_messaging.envelope import Envelope, MalformedEnvelope
from mandi_messaging.inbox import claim_message
from mandi_messaging.registry import Event, EventRegistry
from mandi_messaging.retry import RetryPolicy
from mandi_messaging.sequencing import (
    ParkedMessage,
    admit,
    block,
    blocked_by,
    forget_parked,
    next_parked,
    park,
    unblock,
)
from mandi_observability import bound_context
from mandi_observability.metrics import CONSUMER_HANDLER_OUTCOMES
from mandi_observability.tracing import context_from_traceparent, tracer

__all__ = [
    "ConsumerRuntime",
    "DeadLetterSink",
    "Delivery",
    "DeliveryPipeline",
    "HandlerCall",
    "Outcome",
    "UnitOfWorkFactory",
    "current_delivery",
]

_log = logging.getLogger(__name__)
T = TypeVar("T")

UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[Transaction]]
HandlerCall = Callable[[Event], Awaitable[object]]


class Outcome(StrEnum):
    """What became of one message (the `outcome` label of `mandi_consumer_messages_total`)."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    PARKED = "parked"
    SKIPPED = "skipped"
    DISCARDED = "discarded"
    DEAD_LETTERED = "dead_lettered"


class DeadLetterSink(Protocol):
    """Where a group's given-up messages go: `DeadLetterPublisher` writes `<topic>.dlq`."""

    async def publish(
        self, record: ConsumerRecord, error: BaseException, *, group: str, attempts: int
    ) -> None:
        """Keeps the record with why it failed; raises if it cannot, so nothing is lost."""


# Records a group skips (other groups' event types) are committed one in this many.
SKIPS_PER_COMMIT = 100


@dataclass(frozen=True)
class ConsumerRuntime:
    """What a service's bootstrap gives its consumer groups at run time.

    `unit_of_work` opens the service's own unit of work for a tenant (its repositories and
    outbox on one session); without it, a plain `UnitOfWork` on `sessions`. The pipeline's own
    bookkeeping (waiting keys, parked messages) runs on `sessions` with no tenant. `dependencies`
    are what handlers ask for by parameter name besides `uow` and `envelope`.
    """

    sessions: async_sessionmaker[TenantAwareSession]
    dead_letters: DeadLetterSink
    unit_of_work: UnitOfWorkFactory | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    dependencies: Mapping[str, object] = field(default_factory=dict)

    def open_unit_of_work(self, tenant_id: UUID) -> AbstractAsyncContextManager[Transaction]:
        """The unit of work a handler runs in, as the event's tenant."""
        if self.unit_of_work is not None:
            return self.unit_of_work(tenant_id)
        return UnitOfWork(self.sessions, tenant_id=tenant_id)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a handler may take besides its event, while it runs."""

    envelope: Envelope
    event: Event
    uow: Transaction
    dependencies: Mapping[str, object]

    def argument(self, name: str) -> object:
        """The value of a handler's parameter, by its name."""
        if name == "uow":
            return self.uow
        if name == "envelope":
            return self.envelope
        return self.dependencies[name]


_CURRENT: ContextVar[Delivery] = ContextVar("mandi_delivery")


def current_delivery() -> Delivery:
    """The delivery whose handler is running (FastStream's decoder and the typed calls read it)."""
    return _CURRENT.get()


@dataclass(frozen=True, slots=True)
class _GaveUp:
    error: Exception
    attempts: int


class _Applied(NamedTuple):
    outcome: Outcome
    was_awaited: bool  # the key waited for this very message: what was parked behind it may go


@dataclass(frozen=True, slots=True)
class _Ready:
    """A record whose event decoded and has a handler here: it may be applied with others."""

    position: int  # in its poll
    record: ConsumerRecord
    decoded: DecodedEvent
    run: HandlerCall


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
        request_id=None,
        principal_id=None,
        tenant_id=envelope.tenant_id,
        correlation_id=envelope.correlation_id or envelope.id,
        causation_id=envelope.id,
    )
    with span, ids:
        yield


class DeliveryPipeline:
    """Inbox, retries, dead letters and per-key order for one consumer group's messages."""

    def __init__(
        self,
        *,
        group: str,
        registry: EventRegistry,
        handlers: Callable[[str], HandlerCall | None],
        runtime: ConsumerRuntime,
    ) -> None:
        self.group = group
        self._registry = registry
        self._handlers = handlers
        self._runtime = runtime
        self._skipped_in_a_row: dict[tuple[str, int], int] = {}

    async def deliver_all(self, records: Sequence[ConsumerRecord]) -> list[Outcome]:
        """Handles one poll's records, each partition's in order; their outcomes, in the
        poll's order.

        Partitions are handled concurrently: a key's records all lie in one partition, so no
        key's order changes, and one partition's round trips to the database overlap another's.
        Raises only when an outcome could not be made durable (the dead-letter topic or the
        database unreachable): the caller must then read the records again.
        """
        partitions: dict[tuple[str, int], list[tuple[int, ConsumerRecord]]] = {}
        for position, record in enumerate(records):
            partitions.setdefault((record.topic, record.partition), []).append((position, record))
        outcomes: dict[int, Outcome] = {}
        for delivered in await _all_of(
            [self._deliver_in_order(in_order) for in_order in partitions.values()]
        ):
            outcomes.update(delivered)
        return [outcomes[position] for position in range(len(records))]

    async def _deliver_in_order(
        self, records: list[tuple[int, ConsumerRecord]]
    ) -> dict[int, Outcome]:
        """One partition's records of a poll, in order; their outcomes by position in the poll."""
        outcomes: dict[int, Outcome] = {}
        together: list[_Ready] = []
        for position, record in records:
            ready = self._ready(position, record)
            if isinstance(ready, _Ready) and together and _tenant(together) != _tenant([ready]):
                outcomes.update(await self._apply_together(together))
                together = []
            if isinstance(ready, _Ready):
                together.append(ready)
            elif ready is Outcome.SKIPPED:
                outcomes[position] = self._counted(record, ready)
            else:  # a record to dead-letter or a discard: what came before it goes first
                outcomes.update(await self._apply_together(together))
                together = []
                outcomes[position] = await self.deliver(record)
        outcomes.update(await self._apply_together(together))
        return outcomes

    async def deliver(self, record: ConsumerRecord) -> Outcome:
        """Handles one record on its own: retried, dead-lettered, or released from its key."""
        return self._counted(record, await self._deliver(record))

    def offsets_to_commit(
        self, records: Sequence[ConsumerRecord], outcomes: Sequence[Outcome]
    ) -> dict[TopicPartition, int]:
        """The offsets to commit once these records' outcomes are durable, per partition.

        A skipped record needs no commit of its own: the next record acknowledged on its
        partition commits past it, and read again after a restart it is skipped again. So a
        partition's offset moves past its last record that was not skipped, and past every
        `SKIPS_PER_COMMIT`-th skipped in a row, so a restart re-reads a few only.
        """
        offsets: dict[TopicPartition, int] = {}
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome is not Outcome.SKIPPED or self._commit_after_skipping(record):
                offsets[TopicPartition(record.topic, record.partition)] = record.offset + 1
        return offsets

    def _commit_after_skipping(self, record: ConsumerRecord) -> bool:
        partition = (record.topic, record.partition)
        skipped = self._skipped_in_a_row.get(partition, 0) + 1
        self._skipped_in_a_row[partition] = 0 if skipped >= SKIPS_PER_COMMIT else skipped
        return skipped >= SKIPS_PER_COMMIT

    def _ready(self, position: int, record: ConsumerRecord) -> _Ready | Outcome | None:
        """The record decoded with its handler; SKIPPED for another group's; None for one that
        must be taken on its own (not our CloudEvent, not decodable, a discard)."""
        try:
            envelope = read_envelope(record)
        except MalformedEnvelope:
            return None
        if addressed_elsewhere(record.headers, self.group):
            return Outcome.SKIPPED
        if is_discard(record.headers):
            return None
        run = self._handlers(envelope.type)
        if run is None:
            return Outcome.SKIPPED  # another group's business: no span, no transaction
        try:
            return _Ready(position, record, decode_event(self._registry, envelope), run)
        except UNDECODABLE:
            return None

    async def _apply_together(self, together: list[_Ready]) -> dict[int, Outcome]:
        """Applies consecutive events of one tenant in one transaction; one at a time if that
        fails, so a failing message is retried and dead-lettered alone. Outcomes by position."""
        if len(together) > 1:
            try:
                applied = await self._apply_in_one_transaction(together)
            except Exception as error:
                if database_unavailable(error):
                    raise
                _log.info(
                    "%d messages failed together (%s): applying them one by one",
                    len(together),
                    type(error).__name__,
                )
            else:
                outcomes = {}
                for ready, result in zip(together, applied, strict=True):
                    outcomes[ready.position] = self._counted(ready.record, result.outcome)
                    if result.was_awaited:
                        await self._release(ready.record)
                return outcomes
        return {ready.position: await self._deliver_ready(ready) for ready in together}

    async def _apply_in_one_transaction(self, together: list[_Ready]) -> list[_Applied]:
        async with self._runtime.open_unit_of_work(_tenant(together)) as uow:
            applied = []
            for ready in together:
                with _observed(ready.decoded.envelope, ready.record.topic):
                    applied.append(await self._claim_and_run(uow, ready))
            await uow.commit()
        return applied

    async def _deliver_ready(self, ready: _Ready) -> Outcome:
        with _observed(ready.decoded.envelope, ready.record.topic):
            return self._counted(ready.record, await self._handle(ready))

    async def _deliver(self, record: ConsumerRecord) -> Outcome:
        try:
            envelope = read_envelope(record)
        except MalformedEnvelope as error:
            return await self._dead_letter(record, _GaveUp(error, attempts=1))
        if addressed_elsewhere(record.headers, self.group):
            return Outcome.SKIPPED
        if is_discard(record.headers):
            with _observed(envelope, record.topic):
                return await self._discard(record, envelope)
        run = self._handlers(envelope.type)
        if run is None:
            return Outcome.SKIPPED
        with _observed(envelope, record.topic):
            try:
                decoded = decode_event(self._registry, envelope)
            except UNDECODABLE as error:
                return await self._refuse(record, envelope, error)
            return await self._handle(_Ready(0, record, decoded, run))

    async def _handle(self, ready: _Ready) -> Outcome:
        applied = await self._with_retries(ready.record, partial(self._apply, ready))
        if isinstance(applied, _GaveUp):
            return await self._give_up(ready.record, ready.decoded.envelope, applied)
        if applied.was_awaited:
            await self._release(ready.record)
        return applied.outcome

    async def _apply(self, ready: _Ready) -> _Applied:
        """One attempt in one transaction of its own."""
        async with self._runtime.open_unit_of_work(ready.decoded.tenant_id) as uow:
            applied = await self._claim_and_run(uow, ready)
            await uow.commit()
        return applied

    async def _claim_and_run(self, uow: Transaction, ready: _Ready) -> _Applied:
        """Parks the record behind its key's dead letter, or claims and applies it, in `uow`."""
        message_id = ready.decoded.envelope.id
        admission = await admit(uow.session, self.group, ready.record, message_id)
        if admission.must_wait(message_id):
            await park(uow.session, self.group, ready.record, message_id)
            outcome = Outcome.PARKED
        elif admission.claimed:
            await self._run(ready.run, ready.decoded, uow)
            outcome = Outcome.PROCESSED
        else:
            outcome = Outcome.DUPLICATE
        return _Applied(outcome, was_awaited=admission.blocked_by == message_id)

    async def _run(self, run: HandlerCall, decoded: DecodedEvent, uow: Transaction) -> None:
        delivery = Delivery(decoded.envelope, decoded.event, uow, self._runtime.dependencies)
        token = _CURRENT.set(delivery)
        try:
            await run(decoded.event)
        finally:
            _CURRENT.reset(token)

    async def _with_retries(
        self, record: ConsumerRecord, attempt: Callable[[], Awaitable[T]]
    ) -> T | _GaveUp:
        retrying = self._runtime.retry.retrying(before_sleep=partial(self._note_retry, record))
        try:
            return await retrying(attempt)
        except Exception as error:
            if database_unavailable(error):
                raise  # not the message's fault: it is read again once the database is back
            return _GaveUp(error, attempts=retrying.statistics.get("attempt_number", 1))

    def _note_retry(self, record: ConsumerRecord, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        _log.warning(
            "handler failed (attempt %d of %d): %s",
            state.attempt_number,
            self._runtime.retry.attempts,
            type(error).__name__,
        )
        self._count(record, "retried")

    async def _refuse(
        self, record: ConsumerRecord, envelope: Envelope, error: Exception
    ) -> Outcome:
        """A record that can never be applied: parked if its key waits already, else given up."""
        async with TenantlessUnitOfWork(self._runtime.sessions) as bookkeeping:
            waiting_for = await blocked_by(bookkeeping.session, self.group, record)
            if waiting_for not in (None, envelope.id):
                await park(bookkeeping.session, self.group, record, envelope.id)
                await bookkeeping.commit()
                return Outcome.PARKED
        return await self._give_up(record, envelope, _GaveUp(error, attempts=1))

    async def _give_up(
        self,
        record: ConsumerRecord,
        envelope: Envelope,
        failure: _GaveUp,
        parked: ParkedMessage | None = None,
    ) -> Outcome:
        """Dead-letters the record, then makes its key wait for it.

        The dead letter is written first, so a key never waits for one that does not exist; a
        crash in between reads the record again, which may dead-letter it twice, never lose it.
        """
        await self._dead_letter(record, failure)
        if record.key is None:
            return Outcome.DEAD_LETTERED
        async with TenantlessUnitOfWork(self._runtime.sessions) as bookkeeping:
            reason = dead_letter_reason(failure.error)
            await block(bookkeeping.session, self.group, record, envelope.id, reason)
            if parked is not None:
                await forget_parked(bookkeeping.session, parked)
            await bookkeeping.commit()
        return Outcome.DEAD_LETTERED

    async def _dead_letter(self, record: ConsumerRecord, failure: _GaveUp) -> Outcome:
        await self._runtime.dead_letters.publish(
            record, failure.error, group=self.group, attempts=failure.attempts
        )
        _log.error(
            "message dead-lettered after %d attempt(s): %s",
            failure.attempts,
            type(failure.error).__name__,
        )
        return Outcome.DEAD_LETTERED

    async def _discard(self, record: ConsumerRecord, envelope: Envelope) -> Outcome:
        """An operator gave up on this dead letter: what waits behind it goes on, in order."""
        async with TenantlessUnitOfWork(self._runtime.sessions) as bookkeeping:
            waiting_for = await blocked_by(bookkeeping.session, self.group, record)
        if waiting_for != envelope.id:
            return Outcome.SKIPPED  # its key does not (or no longer) wait for it
        await self._release(record)
        return Outcome.DISCARDED

    async def _release(self, record: ConsumerRecord) -> None:
        """Applies the messages parked behind the record's key in order, then unblocks the key.

        A parked message that fails for good becomes the dead letter the key waits for, and
        the rest stay parked behind it.
        """
        while (parked := await self._next_parked(record)) is not None:
            outcome = await self._apply_parked(parked)
            self._count(parked.record, outcome)
            if outcome is Outcome.DEAD_LETTERED:
                return
        async with TenantlessUnitOfWork(self._runtime.sessions) as bookkeeping:
            await unblock(bookkeeping.session, self.group, record)
            await bookkeeping.commit()

    async def _next_parked(self, record: ConsumerRecord) -> ParkedMessage | None:
        async with TenantlessUnitOfWork(self._runtime.sessions) as bookkeeping:
            return await next_parked(bookkeeping.session, self.group, record)

    async def _apply_parked(self, parked: ParkedMessage) -> Outcome:
        record = parked.record
        envelope = read_envelope(record)  # it was read once before it was parked
        run = self._handlers(envelope.type)
        with _observed(envelope, record.topic):
            if run is None:  # no handler takes it any more
                await self._forget(parked)
                return Outcome.SKIPPED
            try:
                decoded = decode_event(self._registry, envelope)
            except UNDECODABLE as error:
                return await self._give_up(record, envelope, _GaveUp(error, 1), parked)
            applied = await self._with_retries(
                record, partial(self._apply_released, parked, decoded, run)
            )
            if isinstance(applied, _GaveUp):
                return await self._give_up(record, envelope, applied, parked)
            return applied

    async def _apply_released(
        self, parked: ParkedMessage, decoded: DecodedEvent, run: HandlerCall
    ) -> Outcome:
        """One attempt at a released message: claim, apply and forget it in one transaction."""
        async with self._runtime.open_unit_of_work(decoded.tenant_id) as uow:
            claimed = await claim_message(uow.session, self.group, decoded.envelope.id)
            if claimed:
                await self._run(run, decoded, uow)
            await forget_parked(uow.session, parked)
            await uow.commit()
        return Outcome.PROCESSED if claimed else Outcome.DUPLICATE

    async def _forget(self, parked: ParkedMessage) -> None:
        async with TenantlessUnitOfWork(self._runtime.sessions) as bookkeeping:
            await forget_parked(bookkeeping.session, parked)
            await bookkeeping.commit()

    def _count(self, record: ConsumerRecord, outcome: str) -> None:
        CONSUMER_HANDLER_OUTCOMES.labels(self.group, record.topic, outcome).inc()

    def _counted(self, record: ConsumerRecord, outcome: Outcome) -> Outcome:
        self._count(record, outcome)
        return outcome


def _tenant(together: Sequence[_Ready]) -> UUID:
    return together[0].decoded.tenant_id


async def _all_of(work: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Runs the coroutines concurrently; if one fails, the others are cancelled (their
    transactions roll back) and its error is raised as it was."""
    if len(work) == 1:
        return [await work[0]]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in work]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]
