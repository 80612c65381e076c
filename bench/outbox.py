"""Outbox benchmark: raw Kafka produce against the outbox relayed to Kafka, in one run.

On the local Kafka and PostgreSQL (deploy/local/infra.sh), with events of about 500 bytes:

  raw      N events produced straight to Kafka by the batch publisher the relay uses; for
           context also by aiokafka's per-message send() (raw_send_events_per_s).
  relay    the same N events committed to the outbox beforehand, then relayed: from the relay's
           start until Kafka has acknowledged the last one.
  latency  one transaction per event at a steady 1,000/s; for each event, the time from its
           COMMIT being sent to Kafka acknowledging it, recorded by a relay in its own process
           (so an upper bound of commit→published). The writer commits the outbox writer's own
           statement and row through asyncpg, which leaves the relay its share of the two cores.
  orm      the same with a service's write path (unit of work + OutboxWriter on SQLAlchemy) in
           two processes: about a core of this machine, so relay latency then includes waiting
           for CPU (orm_writer_* figures, context only).

Prints the figures beside their targets and saves bench/results/outbox.json.
Run: make bench-outbox   (or: uv run python bench/outbox.py --events 200000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer
from benchlib import percentile, save

from mandi_db import UnitOfWork, create_database_engine, create_session_factory
from mandi_messaging import (
    BatchPublisher,
    Envelope,
    Event,
    EventRegistry,
    OutboxRelay,
    OutboxWriter,
    OutgoingMessage,
    create_messaging_tables,
    create_producer,
)
from mandi_messaging.outbox.writer import INSERT_EVENT, outbox_row
from mandi_observability.metrics import OUTBOX_PUBLISHED
from mandi_testing import (
    TestDatabase,
    find_infrastructure,
    fresh_database,
    temporary_topics,
    topic_name,
)

PAYLOAD_BYTES = 500
PARTITIONS = 6
BENCH_TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
BENCH_EVENTS = EventRegistry()
TARGETS = {
    "relay_events_per_s": (">=", 25_000),
    "relay_to_raw_ratio": (">=", 0.60),
    "latency_p99_ms": ("<=", 20.0),
}


@BENCH_EVENTS.event("mandi.bench.lot_listed", 1)
class LotListed(Event):
    """A sample event padded to the benchmark's payload size."""

    lot_id: str
    quantity_kg: int
    note: str


def sample_event(n: int) -> LotListed:
    """Event number n, with a JSON encoding of PAYLOAD_BYTES bytes."""
    bare = LotListed(lot_id=f"lot-{n:08d}", quantity_kg=n % 10_000, note="")
    padding = PAYLOAD_BYTES - len(bare.model_dump_json())
    return bare.model_copy(update={"note": "x" * padding})


def sample_envelope(n: int) -> Envelope:
    """The envelope the outbox writer would make for event n."""
    return Envelope(
        id=str(uuid.uuid4()),
        source="mandi/bench",
        type=LotListed.event_type,
        subject=f"lot-{n % 1000}",
        data=sample_event(n).model_dump_json().encode(),
        tenant_id=str(BENCH_TENANT),
        correlation_id=str(uuid.uuid4()),
    )


async def started_producer(bootstrap: str, topic: str) -> AIOKafkaProducer:
    """A producer with the topic's metadata already fetched, so no phase pays for it."""
    producer = create_producer(bootstrap, client_id="bench-outbox")
    await producer.start()
    await producer.partitions_for(topic)
    return producer


async def measure_raw(bootstrap: str, topic: str, events: int) -> tuple[float, float]:
    """Events/s of raw produce: through the batch publisher, and through per-message send()."""
    envelopes = [sample_envelope(n) for n in range(events)]
    messages = [
        OutgoingMessage(topic, e.subject.encode(), e.data, e.kafka_headers()) for e in envelopes
    ]
    producer = await started_producer(bootstrap, topic)
    try:
        started = time.perf_counter()
        await BatchPublisher(producer).publish(messages)
        batched = events / (time.perf_counter() - started)
        started = time.perf_counter()
        acknowledgements = [
            await producer.send(m.topic, value=m.value, key=m.key, headers=m.headers)
            for m in messages
        ]
        await asyncio.gather(*acknowledgements)
        per_message = events / (time.perf_counter() - started)
    finally:
        await producer.stop()
    return batched, per_message


def _outbox_row(envelope: Envelope, topic: str) -> tuple[object, ...]:
    return (
        uuid.UUID(envelope.id),
        topic,
        envelope.subject,
        envelope.type,
        envelope.source,
        envelope.time,
        envelope.tenant_id,
        envelope.correlation_id,
        None,
        None,
        envelope.data,
    )


async def fill_outbox(app_url: str, topic: str, events: int) -> None:
    """Commits N events to the outbox in bulk (the write path is not what this phase measures)."""
    columns = [
        "event_id",
        "topic",
        "message_key",
        "event_type",
        "source",
        "occurred_at",
        "tenant_id",
        "correlation_id",
        "causation_id",
        "traceparent",
        "payload",
    ]
    connection = await asyncpg.connect(app_url)
    try:
        rows = [_outbox_row(sample_envelope(n), topic) for n in range(events)]
        await connection.copy_records_to_table("outbox", records=rows, columns=columns)
        await connection.execute("VACUUM ANALYZE outbox")
    finally:
        await connection.close()


def _published(service: str) -> float:
    return OUTBOX_PUBLISHED.labels(service)._value.get()  # noqa: SLF001 - read our own counter


async def measure_relay(
    app_url: str, bootstrap: str, topic: str, events: int, batch_size: int
) -> float:
    """Events/s of the relay draining N committed events to Kafka."""
    await fill_outbox(app_url, topic, events)
    producer = await started_producer(bootstrap, topic)
    relay = OutboxRelay(dsn=app_url, producer=producer, service="bench", batch_size=batch_size)
    before = _published("bench")
    try:
        started = time.perf_counter()
        task = asyncio.create_task(relay.run())
        while _published("bench") - before < events:  # acknowledged by Kafka
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        relay.stop()
        await task
    finally:
        await producer.stop()
    return events / elapsed


RELAY_PROBE = Path(__file__).with_name("outbox_relay_probe.py")
WRITER_START_SECONDS = 5.0


def _positional(sql: str) -> tuple[str, list[str]]:
    """The writer's `:name` SQL with asyncpg's `$n` placeholders, and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"(?<!:):(\w+)", number, sql), names


async def _commit_lightly(app_url: str, topic: str, schedule: Schedule) -> dict[str, float]:
    """The outbox writer's own statement and row, committed through asyncpg, one per event."""
    sql, names = _positional(INSERT_EVENT)
    pool = await asyncpg.create_pool(app_url, min_size=8, max_size=8)
    committed: dict[str, float] = {}

    async def write(n: int) -> None:
        envelope = sample_envelope(n)
        row = outbox_row(envelope, topic)
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(sql, *(row[name] for name in names))
            committed[envelope.id] = time.time()  # before COMMIT: an upper bound, never late

    try:
        await schedule.run(write, tasks=8)
    finally:
        await pool.close()
    return committed


async def _commit_through_the_orm(app_url: str, topic: str, schedule: Schedule) -> dict[str, float]:
    """A service's write path: a unit of work and the outbox writer, one event per transaction."""
    engine = create_database_engine(app_url, pool_size=16, max_overflow=0)
    sessions = create_session_factory(engine)
    committed: dict[str, float] = {}

    async def write(n: int) -> None:
        async with UnitOfWork(sessions, tenant_id=BENCH_TENANT) as uow:
            outbox = OutboxWriter(
                uow.session, BENCH_EVENTS, source="mandi/bench", topic=topic, tenant_id=BENCH_TENANT
            )
            envelope = await outbox.add(sample_event(n), subject=f"lot-{n % 1000}")
            committed[envelope.id] = time.time()  # before COMMIT: an upper bound, never late
            await uow.commit()

    try:
        await schedule.run(write, tasks=16)
    finally:
        await engine.dispose()
    return committed


@dataclass(frozen=True)
class Schedule:
    """Events n = first, first + step, … at `rate` per second of the whole run, from `start_at`."""

    rate: float
    seconds: float
    start_at: float
    first: int = 0
    step: int = 1

    async def run(self, write: Callable[[int], Awaitable[None]], *, tasks: int) -> None:
        """Calls write(n) for each event on time, from `tasks` concurrent tasks."""
        mine = list(range(self.first, int(self.rate * self.seconds), self.step))

        async def task(k: int) -> None:
            for n in mine[k::tasks]:
                await asyncio.sleep(max(0.0, self.start_at + n / self.rate - time.time()))
                await write(n)

        await asyncio.gather(*(task(k) for k in range(tasks)))


WRITERS = {"light": (_commit_lightly, 1), "orm": (_commit_through_the_orm, 2)}


def _writer_process(
    app_url: str, topic: str, mode: str, schedule: Schedule, output: Path
) -> subprocess.Popen[str]:
    arguments = [app_url, topic, mode, json.dumps(asdict(schedule)), str(output)]
    return subprocess.Popen([sys.executable, __file__, "--write-steadily", *arguments], text=True)


async def measure_latency(
    app_url: str, bootstrap: str, topic: str, *, rate: int, seconds: float, mode: str
) -> dict[str, float]:
    """Commit→published latency (ms) at a steady rate; the relay runs in a process of its own
    and records when Kafka acknowledged each event, the writers in processes of theirs."""
    processes = WRITERS[mode][1]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        probe = subprocess.Popen(  # noqa: ASYNC220 - started once, read when done
            [
                sys.executable,
                str(RELAY_PROBE),
                app_url,
                bootstrap,
                str(folder / "acks.json"),
                str(int(rate * seconds)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        if probe.stdout is None:
            raise RuntimeError("the relay probe has no stdout")
        await asyncio.to_thread(probe.stdout.readline)  # "ready": its producer is up
        # Writer processes take about two seconds to import: all of them must be up before the
        # first event is due, or each would start with a burst to catch up with its schedule.
        start_at = time.time() + WRITER_START_SECONDS
        writers = [
            _writer_process(
                app_url,
                topic,
                mode,
                Schedule(rate, seconds, start_at, first=k, step=processes),
                folder / f"commits-{k}.json",
            )
            for k in range(processes)
        ]
        for writer in writers:
            await asyncio.to_thread(writer.wait)
        await asyncio.to_thread(probe.wait, 120)
        committed: dict[str, float] = {}
        for k in range(processes):
            committed.update(json.loads((folder / f"commits-{k}.json").read_text()))
        acknowledged: dict[str, float] = json.loads((folder / "acks.json").read_text())
    return _latency_figures(committed, acknowledged, rate)


def _latency_figures(
    committed: dict[str, float], acknowledged: dict[str, float], rate: int
) -> dict[str, float]:
    warm = sorted(committed, key=committed.__getitem__)[rate:]  # the first second warms up
    latencies = [
        (acknowledged[event] - committed[event]) * 1000 for event in warm if event in acknowledged
    ]
    span = max(committed.values()) - min(committed.values())
    return {
        "latency_p50_ms": round(percentile(latencies, 0.50), 2),
        "latency_p99_ms": round(percentile(latencies, 0.99), 2),
        "latency_max_ms": round(max(latencies), 2),
        "steady_rate_events_per_s": round(len(committed) / span, 1),
        "latency_samples": len(latencies),
        "latency_unacknowledged": len(warm) - len(latencies),
    }


async def apply_schema(owner_url: str) -> None:
    """The outbox and inbox tables, as a service's first migration makes them."""
    connection = await asyncpg.connect(owner_url)
    try:
        for statement in create_messaging_tables():
            await connection.execute(statement)
    finally:
        await connection.close()


async def run_phases(
    args: argparse.Namespace, database: TestDatabase, bootstrap: str, topics: list[str]
) -> dict[str, float]:
    """Runs every phase on its own topic and gathers the figures."""
    await apply_schema(database.owner_url)
    # Latency first: the throughput phases leave autovacuum and checkpoint work behind them.
    steady = {"rate": args.rate, "seconds": args.seconds}
    latency = await measure_latency(database.app_url, bootstrap, topics[2], mode="light", **steady)
    orm = await measure_latency(database.app_url, bootstrap, topics[3], mode="orm", **steady)
    raw, raw_send = await measure_raw(bootstrap, topics[0], args.events)
    relay = await measure_relay(
        database.app_url, bootstrap, topics[1], args.events, args.batch_size
    )
    return {
        "raw_events_per_s": round(raw),
        "relay_events_per_s": round(relay),
        "relay_to_raw_ratio": round(relay / raw, 3),
        **latency,
        "raw_send_events_per_s": round(raw_send),
        "relay_to_raw_send_ratio": round(relay / raw_send, 3),
        "orm_writer_latency_p50_ms": orm["latency_p50_ms"],
        "orm_writer_latency_p99_ms": orm["latency_p99_ms"],
        "orm_writer_steady_rate_events_per_s": orm["steady_rate_events_per_s"],
        "events": args.events,
        "payload_bytes": PAYLOAD_BYTES,
        "relay_batch_size": args.batch_size,
    }


def report(figures: dict[str, float]) -> None:
    """Prints the figures, each required one beside its target."""
    print(
        f"\noutbox benchmark, {figures['events']:,} events of {PAYLOAD_BYTES} bytes, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = ""
        if target:
            op, bound = target
            met = value >= bound if op == ">=" else value <= bound
            verdict = f"   target {op} {bound:,}: {'met' if met else 'MISSED'}"
        print(f"  {name:28} {value:>14,}{verdict}")


def _write_steadily_and_save(arguments: list[str]) -> None:
    app_url, topic, mode, schedule, output = arguments
    commit = WRITERS[mode][0]
    committed = asyncio.run(commit(app_url, topic, Schedule(**json.loads(schedule))))
    Path(output).write_text(json.dumps(committed))


def main() -> None:
    """Sets up a database and topics of the benchmark's own, measures, prints, saves."""
    if sys.argv[1:2] == ["--write-steadily"]:  # a writer process of the latency phase
        _write_steadily_and_save(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description="Raw Kafka produce vs the outbox relay.")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        database = stack.enter_context(
            fresh_database(infrastructure.postgres_admin_url, "bench outbox")
        )
        bootstrap = infrastructure.kafka_bootstrap_servers
        phases = ("raw", "relay", "latency", "orm-latency")
        topics = [topic_name(f"bench-outbox-{phase}") for phase in phases]
        stack.enter_context(temporary_topics(bootstrap, topics, partitions=PARTITIONS))
        figures = asyncio.run(run_phases(args, database, bootstrap, topics))
    report(figures)
    path = save("outbox", figures, kafka="3.9.2 (KRaft, single node)", postgres="15")
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
