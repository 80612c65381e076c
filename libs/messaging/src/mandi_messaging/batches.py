"""A consumer group in batch mode: one handler takes a whole poll's events at once.

    journal = BatchConsumers(group="audit", topics=[...], registry=EVENTS, max_records=5000)

    @journal.handle
    async def append(events: Sequence[ReceivedEvent], writer: AuditWriter) -> Sequence[Rejected]:
        ...

For sinks that apply thousands of events in one transaction (the audit log), where the per-event
pipeline's inbox claim and transaction would cost more than the work. What the pipeline gives
each event, the batch handler owns for the whole poll:

- it is idempotent on the events' ids: a poll is committed only after the handler returned, so
  one it did not finish (a crash, a rebalance) is read again;
- a record that is not our CloudEvent never reaches it: it goes to the dead-letter topic with
  the reason, as does every event the handler returns as `Rejected`; nothing is dropped;
- when it raises (a database that blinks), nothing is committed: the poll is read again after
  a pause that doubles up to a ceiling, never skipped;
- replays addressed to another group and operators' discard markers are not handed to it.

On the real Kafka the next poll is handed over while the handler still writes the one before
(see `_Pipeline`): their work overlaps, and polls are committed in order, each once it and every
poll before it are applied.

Its other parameters are filled by name from the runtime's `dependencies`, like a typed
handler's. For the AsyncAPI document the group is described as one call taking any event of
its registry.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, NamedTuple, Union

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import BaseMiddleware, ContextRepo, StreamMessage
from faststream.kafka import KafkaRouter
from faststream.kafka.message import KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber

from mandi_messaging.broker import FETCH_MAX_WAIT_MS
from mandi_messaging.dead_letters import not_for
from mandi_messaging.delivery import ConsumerRuntime, DeadLetterSink, Outcome
from mandi_messaging.envelope import Envelope, MalformedEnvelope
from mandi_messaging.middleware import record_lag
from mandi_messaging.registry import Event, EventRegistry, event_name
from mandi_messaging.retry import PermanentFailure
from mandi_messaging.subscriptions import Consumers, group_settings
from mandi_observability.metrics import CONSUMER_HANDLER_OUTCOMES

__all__ = [
    "BatchConsumers",
    "BatchHandler",
    "ConsumerGroup",
    "ReceivedEvent",
    "Rejected",
    "RejectedByHandler",
]

_log = logging.getLogger(__name__)


class ReceivedEvent(NamedTuple):
    """One event of a poll: its envelope and the record it came in (a tuple: thousands a poll)."""

    envelope: Envelope
    record: ConsumerRecord


@dataclasses.dataclass(frozen=True, slots=True)
class Rejected:
    """An event the handler cannot take, ever; it goes to the dead-letter topic with `reason`."""

    event: ReceivedEvent
    reason: str


BatchHandler = Callable[..., Awaitable[Sequence[Rejected]]]
# A poll is decoded a slice at a time, letting the event loop run between slices: the write of
# the poll before it (a COPY larger than the socket's buffer) goes on meanwhile.
_RECORDS_BETWEEN_YIELDS = 500


class RejectedByHandler(PermanentFailure):
    """Why a batch handler refused an event (the dead letter's reason)."""


@dataclasses.dataclass
class _Backoff:
    """The pause before a failed poll is read again: doubling from `first` up to `ceiling`."""

    first: float = 0.5
    ceiling: float = 30.0
    current: float = 0.0

    def failed(self) -> float:
        self.current = min(self.ceiling, self.current * 2 or self.first)
        return self.current

    def succeeded(self) -> None:
        self.current = 0.0


class BatchConsumers:
    """A consumer group whose one handler takes each poll's events together."""

    def __init__(
        self,
        *,
        group: str,
        topics: Sequence[str],
        registry: EventRegistry,
        max_records: int = 1000,
    ) -> None:
        self.group = group
        self.topics = tuple(topics)
        self.max_records = max_records
        self._registry = registry
        self._handler: BatchHandler | None = None
        self._parameters: tuple[str, ...] = ()

    @property
    def events(self) -> list[type[Event]]:
        """The models of the events this group takes: every event of its registry, newest."""
        return _newest_models(self._registry)

    def handle(self, handler: BatchHandler) -> BatchHandler:
        """Decorator: the group's handler of a poll's events."""
        if self._handler is not None:
            raise ValueError(f"{self.group} has a batch handler already")
        self._handler = handler
        self._parameters = _parameters_after_the_first(handler)
        return handler

    def router(self, runtime: ConsumerRuntime, **options: Any) -> KafkaRouter:
        """A FastStream router consuming the topics as this group, a poll at a time."""
        if self._handler is None:
            raise TypeError(f"{self.group} has no batch handler")
        missing = sorted(set(self._parameters) - set(runtime.dependencies))
        if missing:
            raise TypeError(f"{self.group}'s handler asks for {', '.join(missing)}, not provided")
        arguments = {name: runtime.dependencies[name] for name in self._parameters}
        runner = _PollRunner(self.group, partial(self._handler, **arguments), runtime.dead_letters)
        router = KafkaRouter(middlewares=[partial(_BatchMiddleware, pipeline=_Pipeline(runner))])
        polls: LogicSubscriber[Any] = router.subscriber(
            *self.topics,
            **self._settings(),
            batch=True,
            max_records=self.max_records,
            batch_timeout_ms=FETCH_MAX_WAIT_MS,
            parser=_poll_as_is,
            decoder=_nothing_to_decode,
            **options,
        )
        polls(_handled_by_the_runner)
        return router

    def subscribe(self, router: KafkaRouter) -> LogicSubscriber[Any]:
        """Describes the group on a router, for its AsyncAPI document."""
        subscriber: LogicSubscriber[Any] = router.subscriber(*self.topics, **self._settings())
        subscriber(_described_call(self.group, self._registry, self._handler))
        return subscriber

    def _settings(self) -> dict[str, Any]:
        return group_settings(self.group, self.topics)


class _PollRunner:
    """Hands a poll's CloudEvents to the handler and dead-letters what it cannot take."""

    def __init__(
        self,
        group: str,
        handler: Callable[[Sequence[ReceivedEvent]], Awaitable[Sequence[Rejected]]],
        dead_letters: DeadLetterSink,
    ) -> None:
        self.group = group
        self.backoff = _Backoff()
        self._handler = handler
        self._dead_letters = dead_letters

    async def run(self, records: Sequence[ConsumerRecord]) -> None:
        """Applies the poll; returns once every record's outcome is durable, else raises."""
        events: list[ReceivedEvent] = []
        outcomes: Counter[tuple[str, Outcome]] = Counter()
        for position, record in enumerate(records):
            if position % _RECORDS_BETWEEN_YIELDS == 0:
                await asyncio.sleep(0)  # the poll before may still be streaming to the database
            if not_for(record.headers, self.group):
                outcomes[record.topic, Outcome.SKIPPED] += 1
                continue
            try:
                envelope = Envelope.from_kafka(record.headers, record.value)
            except MalformedEnvelope as error:
                await self._dead_letter(record, error)
                outcomes[record.topic, Outcome.DEAD_LETTERED] += 1
                continue
            events.append(ReceivedEvent(envelope, record))
            outcomes[record.topic, Outcome.PROCESSED] += 1
        refusals = await self._handler(events) if events else ()
        for refusal in refusals or ():
            await self._dead_letter(refusal.event.record, RejectedByHandler(refusal.reason))
            outcomes[refusal.event.record.topic, Outcome.PROCESSED] -= 1
            outcomes[refusal.event.record.topic, Outcome.DEAD_LETTERED] += 1
        for (topic, outcome), count in outcomes.items():
            if count:
                CONSUMER_HANDLER_OUTCOMES.labels(self.group, topic, outcome.value).inc(count)

    async def _dead_letter(self, record: ConsumerRecord, error: Exception) -> None:
        await self._dead_letters.publish(record, error, group=self.group, attempts=1)


class _Pipeline:
    """A group's polls in flight: the one being applied and the one before it, committed in order.

    While the database writes one poll, the next is already read, decoded and prepared by the
    handler (which, for the journal, then waits for the first's locks): the process's work and
    the database's overlap instead of taking turns. A poll is committed only once it and every
    poll before it are applied. When one fails, it and what came after it are read again: each
    partition goes back to the first record not applied, never further, after a pause.
    """

    def __init__(self, runner: _PollRunner) -> None:
        self.runner = runner
        self.in_flight: asyncio.Future[bool] | None = None
        self.rewind: dict[TopicPartition, int] = {}

    async def take(self, records: Sequence[ConsumerRecord], kafka: AIOKafkaConsumer) -> None:
        """Starts applying a poll; returns once the poll before it is settled."""
        if self.rewind:  # read before the rewind: it is read again after the pause
            await self._recover(kafka)
            return
        previous = self.in_flight
        self.in_flight = asyncio.ensure_future(self._settle(records, kafka, previous))
        if previous is not None:
            await asyncio.wait([previous])

    async def _settle(
        self,
        records: Sequence[ConsumerRecord],
        kafka: AIOKafkaConsumer,
        previous: asyncio.Future[bool] | None,
    ) -> bool:
        """Applies the poll, then commits it if every poll before it was; True if it did."""
        try:
            await self.runner.run(records)
            applied = True
        except Exception:  # noqa: BLE001 - whatever failed, the poll is read again after a pause
            _log.exception("a poll of %s failed; it is read again", self.runner.group)
            applied = False
        in_order = previous is None or await previous
        if applied and in_order:
            await _commit(kafka, records, self.runner.group)
            self.runner.backoff.succeeded()
            return True
        for record in records:  # each partition back to its first record not applied
            partition = TopicPartition(record.topic, record.partition)
            self.rewind[partition] = min(self.rewind.get(partition, record.offset), record.offset)
        _seek(kafka, self.rewind)  # at once: an idle group reads them again too
        return False

    async def _recover(self, kafka: AIOKafkaConsumer) -> None:
        if self.in_flight is not None:
            await asyncio.wait([self.in_flight])
        _seek(kafka, self.rewind)
        self.rewind, self.in_flight = {}, None
        await asyncio.sleep(self.runner.backoff.failed())


async def _commit(kafka: AIOKafkaConsumer, records: Sequence[ConsumerRecord], group: str) -> None:
    try:
        await kafka.commit(_next_offsets(records))
    except KafkaError:
        # The partitions moved to another member meanwhile: it reads these records again, and
        # a handler idempotent on event ids applies nothing twice.
        _log.warning("the offsets of a poll of %s could not be committed", group, exc_info=True)
        return
    record_lag(kafka, records, group)


def _seek(kafka: AIOKafkaConsumer, positions: dict[TopicPartition, int]) -> None:
    assigned = kafka.assignment()
    for partition, offset in positions.items():
        if partition in assigned:
            kafka.seek(partition, offset)


class _BatchMiddleware(BaseMiddleware):
    """Hands each poll to the group's pipeline in place of a handler."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, pipeline: _Pipeline) -> None:
        super().__init__(msg, context=context)
        self._pipeline = pipeline

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:  # noqa: ARG002 - the runner calls the handler
        """Starts the poll on the real Kafka; in FastStream's in-memory Kafka (tests), applies
        it then acknowledges it, or reads it again."""
        records = msg.raw_message
        if not isinstance(msg, KafkaMessage) or not isinstance(records, Sequence):
            raise TypeError("a batch consumer group subscribes a batch of records")
        kafka = msg.consumer
        if isinstance(kafka, AIOKafkaConsumer):
            await self._pipeline.take(records, kafka)
            return None
        try:
            await self._pipeline.runner.run(records)
        except Exception:  # noqa: BLE001 - whatever failed, the poll is read again after a pause
            _log.exception("a poll of %s failed; read again", self._pipeline.runner.group)
            await asyncio.sleep(self._pipeline.runner.backoff.failed())
            await msg.nack()
            return None
        await msg.ack()
        return None


def _next_offsets(records: Sequence[ConsumerRecord]) -> dict[TopicPartition, int]:
    return {TopicPartition(r.topic, r.partition): r.offset + 1 for r in records}


def _parameters_after_the_first(handler: BatchHandler) -> tuple[str, ...]:
    parameters = list(inspect.signature(handler).parameters.values())
    if not parameters:
        raise TypeError(f"{handler.__name__} takes no events")
    return tuple(parameter.name for parameter in parameters[1:])


def _described_call(
    group: str, registry: EventRegistry, handler: BatchHandler | None
) -> Callable[[Event], Awaitable[None]]:
    """A call FastStream documents as taking any event of the registry."""

    async def call(event: Event) -> None:  # noqa: ARG001 - documentation only
        return None

    models = _newest_models(registry)
    payload: Any = Union[tuple(models)] if len(models) > 1 else models[0]  # noqa: UP007
    call.__annotations__ = {"event": payload, "return": None}
    name = handler.__name__ if handler is not None else group
    call.__name__ = call.__qualname__ = name
    summary = (handler.__doc__ or "").strip().split("\n", 1)[0] if handler is not None else ""
    call.__doc__ = summary or f"every event, in batches ({group})"
    return call


def _newest_models(registry: EventRegistry) -> list[type[Event]]:
    names = sorted({event_name(model.event_type) or "" for model in registry.models()} - {""})
    return [registry.latest(name) for name in names]


async def _poll_as_is(
    records: tuple[ConsumerRecord, ...],
    parse: Callable[[tuple[ConsumerRecord, ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's message of a poll, without its decoding of every record's headers and
    body, which the runner does once, its own way: FastStream parses the first record only."""
    # Its headers need not be UTF-8 (such a record is dead-lettered by the runner).
    first = dataclasses.replace(records[0], headers=[])
    message = await parse((first,))
    message.raw_message = tuple(records)
    return message


async def _nothing_to_decode(message: StreamMessage[Any], decode: Any) -> None:
    """The runner hands the records over as they are: nothing for FastStream to decode."""


async def _handled_by_the_runner() -> None:
    """Never called: the group's middleware hands each poll to its runner."""


# What a service's definition lists as its consumer groups: typed handlers per event, or one
# handler per poll.
ConsumerGroup = Consumers | BatchConsumers
