"""Typed consumers on FastStream's in-memory Kafka (TestKafkaBroker) and the real PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import (
    TenantAwareSession,
    Transaction,
    UnitOfWork,
    create_database_engine,
    create_session_factory,
    database_unavailable,
)
from mandi_messaging import (
    ConsumerRuntime,
    Consumers,
    Envelope,
    Event,
    EventRegistry,
    OutboxWriter,
    PermanentFailure,
    RetryPolicy,
    asyncapi_document,
)
from mandi_messaging.dead_letters import dead_letter_reason
from mandi_observability import RequestContext, current_context
from mandi_testing import TestDatabase
from mandi_testing.messaging import TEST_TENANT, envelope_of, publish_envelope

pytestmark = pytest.mark.integration  # the real PostgreSQL; Kafka is FastStream's, in memory

TOPIC = "mandi.lots.events"
EVENTS = EventRegistry()


@EVENTS.event("mandi.lot.priced", 1)
class LotPricedV1(Event):
    lot_id: str
    price: float


@EVENTS.event("mandi.lot.priced", 2)
class LotPriced(Event):
    lot_id: str
    price_minor: int
    currency: str


@EVENTS.upcaster("mandi.lot.priced", from_version=1)
def _rupees_to_paise(data: dict[str, Any]) -> dict[str, Any]:
    return {"lot_id": data["lot_id"], "price_minor": round(data["price"] * 100), "currency": "INR"}


@EVENTS.event("mandi.lot.withdrawn", 1)
class LotWithdrawn(Event):
    lot_id: str


@EVENTS.event("mandi.lot.graded", 1)
class LotGraded(Event):
    lot_id: str
    grade: str


RECORD_EFFECT = text("INSERT INTO effects (event_id, body) VALUES (:event_id, :body)")


async def record(uow: Transaction, envelope: Envelope, body: str) -> None:
    """What the tests' handlers do: one row per applied event, in the handler's transaction."""
    await uow.session.exec(RECORD_EFFECT, params={"event_id": envelope.id, "body": body})


@dataclass
class Failing:
    """Makes handlers fail for some lots: `times` more times (None: always), with `error`."""

    times: dict[str, int | None] = field(default_factory=dict)
    error: type[Exception] = RuntimeError

    def check(self, lot_id: str) -> None:
        """Raises when the lot is set to fail; counts the failure down."""
        if lot_id not in self.times:
            return
        remaining = self.times[lot_id]
        if remaining is not None:
            if remaining == 0:
                return
            self.times[lot_id] = remaining - 1
        raise self.error(f"cannot price {lot_id} for buyer ravi.kumar@example.com")


def lot_consumers(group: str, failing: Failing | None = None) -> Consumers:
    """A group that prices and withdraws lots (and does not handle grading)."""
    failing = failing or Failing()
    consumers = Consumers(group=group, topics=[TOPIC], registry=EVENTS)

    @consumers.on(LotPriced)
    async def on_lot_priced(event: LotPriced, uow: Transaction, envelope: Envelope) -> None:
        """Records the lot's price."""
        failing.check(event.lot_id)
        price = f"{event.price_minor} {event.currency}"
        await record(uow, envelope, f"priced {event.lot_id} at {price}")

    @consumers.on(LotWithdrawn)
    async def on_lot_withdrawn(event: LotWithdrawn, uow: Transaction, envelope: Envelope) -> None:
        """Records the withdrawal."""
        await record(uow, envelope, f"withdrawn {event.lot_id}")

    return consumers


@dataclass(frozen=True)
class Letter:
    """One dead letter, as the group gave up on it."""

    record: ConsumerRecord
    error_type: str
    reason: str
    attempts: int


class DeadLetters:
    """The group's dead letters, kept here: Kafka is in memory in these tests."""

    def __init__(self) -> None:
        self.letters: list[Letter] = []

    async def publish(
        self, record: ConsumerRecord, error: BaseException, *, group: str, attempts: int
    ) -> None:
        """Keeps the dead letter."""
        assert group
        reason = dead_letter_reason(error)
        self.letters.append(Letter(record, type(error).__name__, reason, attempts))


FAST_RETRIES = RetryPolicy(attempts=3, initial_backoff=0.001, max_backoff=0.005)


@pytest.fixture
def dead_letters() -> DeadLetters:
    """Where the group's dead letters go."""
    return DeadLetters()


@pytest.fixture
def runtime(
    sessions: async_sessionmaker[TenantAwareSession], dead_letters: DeadLetters
) -> ConsumerRuntime:
    """The runtime a service's bootstrap would build, with quick retries."""
    return ConsumerRuntime(sessions=sessions, dead_letters=dead_letters, retry=FAST_RETRIES)


@asynccontextmanager
async def in_memory(consumers: Consumers, runtime: ConsumerRuntime) -> AsyncIterator[KafkaBroker]:
    """FastStream's in-memory Kafka delivering to the group for the duration of a block."""
    broker = KafkaBroker()
    broker.include_router(consumers.router(runtime))
    async with TestKafkaBroker(broker) as testing:
        yield testing


@pytest.fixture
def effects(messaging_database: TestDatabase) -> Callable[..., Any]:
    """The bodies the handlers recorded for some envelopes, in the order they were applied."""

    async def read(*envelopes: Envelope) -> list[str]:
        connection = await asyncpg.connect(messaging_database.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT body FROM effects WHERE event_id = ANY($1) ORDER BY applied_at",
                [envelope.id for envelope in envelopes],
            )
        finally:
            await connection.close()
        return [row["body"] for row in rows]

    return read


def outcomes(group: str, outcome: str) -> float:
    """How many messages of the group's topic ended with `outcome`."""
    labels = {"group": group, "topic": TOPIC, "outcome": outcome}
    return REGISTRY.get_sample_value("mandi_consumer_messages_total", labels) or 0.0


async def test_each_event_reaches_its_handler_as_the_newest_model(
    runtime: ConsumerRuntime, effects: Callable[..., Any]
) -> None:
    old_price = envelope_of(LotPricedV1(lot_id="L1", price=12.5), subject="L1", registry=EVENTS)
    withdrawal = envelope_of(LotWithdrawn(lot_id="L2"), subject="L2", registry=EVENTS)

    async with in_memory(lot_consumers("routing"), runtime) as broker:
        await publish_envelope(broker, TOPIC, old_price)
        await publish_envelope(broker, TOPIC, withdrawal)

    assert await effects(old_price, withdrawal) == ["priced L1 at 1250 INR", "withdrawn L2"]


async def test_an_event_nobody_here_handles_is_acknowledged_and_skipped(
    runtime: ConsumerRuntime, dead_letters: DeadLetters, effects: Callable[..., Any]
) -> None:
    grading = envelope_of(LotGraded(lot_id="L1", grade="A"), subject="L1", registry=EVENTS)
    skipped_before = outcomes("skipping", "skipped")

    async with in_memory(lot_consumers("skipping"), runtime) as broker:
        await publish_envelope(broker, TOPIC, grading)

    assert await effects(grading) == []
    assert dead_letters.letters == []
    assert outcomes("skipping", "skipped") == skipped_before + 1


async def test_a_replay_addressed_to_another_group_is_skipped(
    runtime: ConsumerRuntime, effects: Callable[..., Any]
) -> None:
    withdrawal = envelope_of(LotWithdrawn(lot_id="L4"), subject="L4", registry=EVENTS)
    headers = {name: value.decode() for name, value in withdrawal.kafka_headers()}
    skipped_before = outcomes("addressee", "skipped")

    async with in_memory(lot_consumers("addressee"), runtime) as broker:
        for_others = {**headers, "x-mandi-for-group": "another-group", "x-mandi-replays": "1"}
        await broker.publish(withdrawal.data, TOPIC, key=b"L4", headers=for_others)
        assert await effects(withdrawal) == []
        for_us = {**headers, "x-mandi-for-group": "addressee", "x-mandi-replays": "1"}
        await broker.publish(withdrawal.data, TOPIC, key=b"L4", headers=for_us)

    assert await effects(withdrawal) == ["withdrawn L4"]
    assert outcomes("addressee", "skipped") == skipped_before + 1


async def test_a_failing_handler_is_retried_and_applied_once(
    runtime: ConsumerRuntime, dead_letters: DeadLetters, effects: Callable[..., Any]
) -> None:
    price = envelope_of(
        LotPriced(lot_id="L1", price_minor=5, currency="INR"), subject="L1", registry=EVENTS
    )
    consumers = lot_consumers("retrying", Failing(times={"L1": 2}))

    async with in_memory(consumers, runtime) as broker:
        await publish_envelope(broker, TOPIC, price)

    assert await effects(price) == ["priced L1 at 5 INR"]
    assert dead_letters.letters == []
    assert outcomes("retrying", "retried") == 2


async def test_a_handler_that_keeps_failing_is_dead_lettered_with_its_reason(
    runtime: ConsumerRuntime, dead_letters: DeadLetters, effects: Callable[..., Any]
) -> None:
    price = envelope_of(
        LotPriced(lot_id="L1", price_minor=5, currency="INR"), subject="L1", registry=EVENTS
    )
    consumers = lot_consumers("giving-up", Failing(times={"L1": None}))

    async with in_memory(consumers, runtime) as broker:
        await publish_envelope(broker, TOPIC, price)

    [letter] = dead_letters.letters
    assert letter.reason.startswith("RuntimeError: cannot price L1")
    assert "ravi.kumar@example.com" not in letter.reason, "the reason is redacted"
    assert letter.attempts == 3
    assert letter.record.value == price.data
    assert await effects(price) == []


async def test_a_permanent_failure_is_dead_lettered_without_retries(
    runtime: ConsumerRuntime, dead_letters: DeadLetters
) -> None:
    price = envelope_of(
        LotPriced(lot_id="L1", price_minor=5, currency="INR"), subject="L1", registry=EVENTS
    )
    consumers = lot_consumers("permanent", Failing(times={"L1": None}, error=PermanentFailure))

    async with in_memory(consumers, runtime) as broker:
        await publish_envelope(broker, TOPIC, price)

    [letter] = dead_letters.letters
    assert (letter.error_type, letter.attempts) == ("PermanentFailure", 1)
    assert outcomes("permanent", "retried") == 0


def _undecodable(kind: str) -> Envelope:
    price = envelope_of(
        LotPriced(lot_id="L1", price_minor=5, currency="INR"), subject="L1", registry=EVENTS
    )
    changes: dict[str, dict[str, Any]] = {
        "newer version": {"type": "mandi.lot.priced.v3"},
        "data that does not fit": {"data": b'{"lot_id": "L1"}'},
        "no tenant": {"tenant_id": None},
        "a tenant that is not a UUID": {"tenant_id": "acme"},
    }
    return dataclasses.replace(price, **changes[kind])


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [
        ("newer version", "UnknownEventType"),
        ("data that does not fit", "UndecodableEvent"),
        ("no tenant", "InvalidTenant"),
        ("a tenant that is not a UUID", "InvalidTenant"),
    ],
)
async def test_an_event_that_can_never_be_applied_is_dead_lettered_at_once(
    kind: str, error_type: str, runtime: ConsumerRuntime, dead_letters: DeadLetters
) -> None:
    async with in_memory(lot_consumers(f"undecodable-{kind}"), runtime) as broker:
        await publish_envelope(broker, TOPIC, _undecodable(kind))

    [letter] = dead_letters.letters
    assert (letter.error_type, letter.attempts) == (error_type, 1)


async def test_a_record_that_is_not_our_cloudevent_is_dead_lettered_at_once(
    runtime: ConsumerRuntime, dead_letters: DeadLetters
) -> None:
    async with in_memory(lot_consumers("foreign"), runtime) as broker:
        await broker.publish(b"<xml/>", TOPIC, key=b"k", headers={"source": "legacy"})

    [letter] = dead_letters.letters
    assert (letter.error_type, letter.attempts) == ("MalformedEnvelope", 1)
    assert letter.record.value == b"<xml/>"


async def test_a_database_that_cannot_be_reached_never_dead_letters_a_message(
    dead_letters: DeadLetters,
) -> None:
    engine = create_database_engine("postgresql://mandi:secret@127.0.0.1:9/nowhere")
    runtime = ConsumerRuntime(
        sessions=create_session_factory(engine), dead_letters=dead_letters, retry=FAST_RETRIES
    )
    withdrawal = envelope_of(LotWithdrawn(lot_id="L5"), subject="L5", registry=EVENTS)

    try:
        async with in_memory(lot_consumers("database-away"), runtime) as broker:
            with pytest.raises((OSError, DBAPIError)) as raised:  # Kafka would deliver it again
                await publish_envelope(broker, TOPIC, withdrawal)
    finally:
        await engine.dispose()

    assert database_unavailable(raised.value)
    assert dead_letters.letters == []


async def test_the_handler_runs_in_the_events_context_and_its_tenants_unit_of_work(
    sessions: async_sessionmaker[TenantAwareSession],
    dead_letters: DeadLetters,
    count_rows: Callable[..., Any],
) -> None:
    seen: dict[str, Any] = {}
    consumers = Consumers(group="context", topics=[TOPIC], registry=EVENTS)

    @consumers.on(LotWithdrawn)
    async def on_lot_withdrawn(event: LotWithdrawn, uow: UnitOfWork) -> None:
        seen["context"] = current_context()
        seen["tenant"] = uow.tenant_id
        writer = OutboxWriter(
            uow.session, EVENTS, source="mandi/tests", topic="out", tenant_id=uow.tenant_id
        )
        seen["published"] = await writer.add(LotGraded(lot_id=event.lot_id, grade="B"), subject="L")

    runtime = ConsumerRuntime(
        sessions=sessions,
        dead_letters=dead_letters,
        unit_of_work=lambda tenant: UnitOfWork(sessions, tenant_id=tenant),
    )
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    consumed = dataclasses.replace(
        envelope_of(LotWithdrawn(lot_id="L9"), subject="L9", registry=EVENTS),
        correlation_id="conversation-7",
        traceparent=traceparent,
    )
    outbox_before = await count_rows("outbox")

    async with in_memory(consumers, runtime) as broker:
        await publish_envelope(broker, TOPIC, consumed)

    assert seen["tenant"] == TEST_TENANT
    assert isinstance(seen["tenant"], UUID)
    assert seen["context"] == RequestContext(
        correlation_id="conversation-7", causation_id=consumed.id, tenant_id=str(TEST_TENANT)
    )
    published: Envelope = seen["published"]
    assert (published.correlation_id, published.causation_id) == ("conversation-7", consumed.id)
    assert published.traceparent is not None
    assert published.traceparent.split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert await count_rows("outbox") == outbox_before + 1, "the handler's writes committed"


async def test_handlers_get_the_runtimes_dependencies_by_name(
    sessions: async_sessionmaker[TenantAwareSession],
    dead_letters: DeadLetters,
    effects: Callable[..., Any],
) -> None:
    consumers = Consumers(group="dependencies", topics=[TOPIC], registry=EVENTS)

    @consumers.on(LotWithdrawn)
    async def on_lot_withdrawn(
        event: LotWithdrawn, uow: Transaction, envelope: Envelope, desk: str
    ) -> None:
        await record(uow, envelope, f"withdrawn {event.lot_id} by {desk}")

    with pytest.raises(TypeError, match="on_lot_withdrawn asks for desk"):
        consumers.router(ConsumerRuntime(sessions=sessions, dead_letters=dead_letters))

    runtime = ConsumerRuntime(
        sessions=sessions, dead_letters=dead_letters, dependencies={"desk": "Unjha desk"}
    )
    withdrawal = envelope_of(LotWithdrawn(lot_id="L3"), subject="L3", registry=EVENTS)
    async with in_memory(consumers, runtime) as broker:
        await publish_envelope(broker, TOPIC, withdrawal)

    assert await effects(withdrawal) == ["withdrawn L3 by Unjha desk"]


def test_a_handler_takes_the_newest_model_of_its_event() -> None:
    consumers = Consumers(group="old", topics=[TOPIC], registry=EVENTS)

    async def on_old_price(event: LotPricedV1) -> None:
        """Would see only v1 events."""

    with pytest.raises(TypeError, match="not the newest"):
        consumers.on(LotPricedV1)(on_old_price)


def test_the_asyncapi_document_lists_each_event_with_its_schema() -> None:
    document = asyncapi_document(
        lot_consumers("documented"),
        service="lots",
        version="1.2.0",
        publishes={"mandi.lots.grades": [LotGraded, LotWithdrawn]},
    )

    assert document["info"] == {"title": "mandi-lots", "version": "1.2.0"}
    schemas = document["components"]["schemas"]
    assert schemas["LotPriced"]["required"] == ["lot_id", "price_minor", "currency"]
    assert set(schemas["LotWithdrawn"]["properties"]) == {"lot_id"}
    assert set(schemas["LotGraded"]["properties"]) == {"lot_id", "grade"}
    channels = document["channels"]
    received = channels[f"{TOPIC}:documented"]
    assert "mandi.lot.priced.v2: Records the lot's price." in received["description"]
    assert "mandi.lot.withdrawn.v1: Records the withdrawal." in received["description"]
    messages = document["components"]["messages"]
    assert messages[f"{TOPIC}:documented:SubscribeMessage"]["payload"]["oneOf"] == [
        {"$ref": "#/components/schemas/LotPriced"},
        {"$ref": "#/components/schemas/LotWithdrawn"},
    ]
    assert channels["mandi.lots.grades:publish"]["address"] == "mandi.lots.grades"
    assert schemas["mandi.lots.grades:publish:Message:Payload"]["anyOf"] == [
        {"$ref": "#/components/schemas/LotGraded"},
        {"$ref": "#/components/schemas/LotWithdrawn"},
    ]
