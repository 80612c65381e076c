"""Audit benchmark: events from Kafka into the tenants' hash chains in PostgreSQL, beside a raw
COPY of the same rows; then verification of every chain.

  ingest    --events CloudEvents (as the services' relays publish them: binary mode, a JSON
            payload of --payload-bytes or so, a principal and a partner in it) over --tenants
            tenants are put on a topic of the run's own with 6 partitions first; then the
            journal's consumer group (the service's own handler, `append_to_chains`, through
            `BatchConsumers` and the service's writer, as `serve` and `consume` run it) reads
            them and appends them, a poll per transaction, durable and hash-chained, with a
            signed checkpoint every 1000 records of a tenant. Events/s from the first poll
            appended to the last (the group's join is not counted), and the process's CPU per
            event.
  raw COPY  the same rows, read back, COPY'd in batches of the poll's size, one transaction
            each, into a table with the same columns and indexes (`LIKE ... INCLUDING ALL`)
            without hashing, locks, row-level security or triggers: what PostgreSQL takes at
            all, in the same run, on the same database.
  verify    every chain verified as the API and the background job verify it (each record's
            digest recomputed from its fields, its link, the payload against its digest, every
            checkpoint's signature): events/s.

The run's topic and database are its own and dropped at the end; it needs no other process.
Prints each figure, then each target; saves bench/results/audit.json.
Run: make bench-audit   (or: uv run python bench/audit.py --events 100000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import uvloop
from aiokafka import AIOKafkaProducer
from benchlib import cpu_seconds, report, save
from sqlalchemy.engine import make_url

from mandi_audit.config import Settings
from mandi_audit.entrypoints.consumers import RECORDS_PER_POLL as POLL
from mandi_audit.entrypoints.consumers import append_to_chains
from mandi_audit.entrypoints.service import DEFINITION
from mandi_audit.service_layer.checkpoints import publish_keys
from mandi_audit.service_layer.metrics import JOURNAL_APPENDED
from mandi_audit.service_layer.verifying import verify_round
from mandi_contracts import EVENTS
from mandi_messaging import (
    BatchConsumers,
    ConsumerRuntime,
    DeadLetterPublisher,
    Envelope,
    create_broker,
    start_broker,
)
from mandi_runtime import migrate, running, settle_the_heap
from mandi_testing import find_infrastructure, fresh_database
from mandi_testing.kafka import create_topics, delete_topics
from mandi_testing.platform import settings_values

_TYPES = (
    "mandi.partners.partner_approved.v1",
    "mandi.availability.availability_published.v1",
    "mandi.matching.match_proposed.v1",
    "mandi.risk.exposure_reserved.v1",
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--payload-bytes", type=int, default=300)
    return parser.parse_args()


def _envelopes(count: int, tenants: list[uuid.UUID], payload_bytes: int) -> list[Envelope]:
    chooser = random.Random(16)
    made = []
    filler = "x" * max(0, payload_bytes - 200)
    for number in range(count):
        partner = uuid.UUID(int=chooser.getrandbits(128))
        data = {
            "partner_id": str(partner),
            "approved_by": f"user-{number % 97}",
            "status": "approved",
            "note": filler,
            "number": number,
        }
        made.append(
            Envelope(
                id=str(uuid.uuid4()),
                source="mandi/partners",
                type=_TYPES[number % len(_TYPES)],
                subject=str(partner),
                data=json.dumps(data).encode(),
                time=datetime.now(UTC),
                tenant_id=str(tenants[number % len(tenants)]),
                correlation_id=str(uuid.uuid4()),
                traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
            )
        )
    return made


async def _fill(bootstrap: str, topic: str, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send(
                topic,
                value=envelope.data,
                key=envelope.subject.encode(),
                headers=envelope.kafka_headers(),
            )
        await producer.flush()
    finally:
        await producer.stop()


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process now, by pid."""
    return _cpu_of(lambda command: command.startswith(b"postgres") or b"/bin/postgres" in command)


def _kafka_cpu() -> dict[int, float]:
    """CPU seconds of the Kafka broker's JVM now."""
    return _cpu_of(lambda command: b"java" in command and b"kafka" in command)


def _cpu_of(wanted: Callable[[bytes], bool]) -> dict[int, float]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if wanted((entry / "cmdline").read_bytes()):
                    found[int(entry.name)] = cpu_seconds(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return found


def _spent(now: dict[int, float], before: dict[int, float]) -> float:
    """CPU seconds since `before` (processes that ended meanwhile are not seen)."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in now.items())


def _postgres_spent(before: dict[int, float]) -> float:
    return _spent(_postgres_cpu(), before)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _ingest(settings: Settings, bootstrap: str, topic: str, count: int) -> dict[str, float]:
    async with running(DEFINITION, settings, background=False) as service:
        await publish_keys(service.deps)
        journal = BatchConsumers(
            group=f"bench-audit-{uuid.uuid4().hex[:8]}",
            topics=[topic],
            registry=EVENTS,
            max_records=POLL,
        )
        journal.handle(append_to_chains)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        runtime = ConsumerRuntime(
            sessions=service.database.sessions,
            dead_letters=DeadLetterPublisher(producer),
            dependencies={"writer": service.deps.journal},
        )
        broker = create_broker(bootstrap, client_id="bench-audit")
        broker.include_router(journal.router(runtime))
        before = JOURNAL_APPENDED._value.get()  # noqa: SLF001 - the process's own counter
        await start_broker(broker, bootstrap)
        settle_the_heap()  # as serve and consume do once started
        try:
            first_at = first_count = None
            while True:
                appended = JOURNAL_APPENDED._value.get() - before  # noqa: SLF001
                if appended and first_at is None:
                    first_at, first_count, cpu_at_first = time.perf_counter(), appended, _cpu()
                    postgres_at_first, kafka_at_first = _postgres_cpu(), _kafka_cpu()
                if appended >= count:
                    ended, cpu_at_end = time.perf_counter(), _cpu()
                    postgres = _postgres_spent(postgres_at_first)
                    kafka = _spent(_kafka_cpu(), kafka_at_first)
                    break
                await asyncio.sleep(0.005)
        finally:
            await broker.stop()
            await producer.stop()
        if first_at is None or first_count is None:
            raise SystemExit("nothing was appended")
        measured = appended - first_count
        return {
            "ingest_events_per_s": round(measured / (ended - first_at)),
            "ingest_process_cpu_us_per_event": round(
                (cpu_at_end - cpu_at_first) / measured * 1e6, 1
            ),
            "ingest_postgres_cpu_us_per_event": round(postgres / measured * 1e6, 1),
            "ingest_kafka_cpu_us_per_event": round(kafka / measured * 1e6, 1),
        }


async def _raw_copy(superuser_url: str) -> dict[str, float]:
    connection = await asyncpg.connect(superuser_url)
    try:
        await connection.execute("CREATE TABLE bench_raw_copy (LIKE audit_records INCLUDING ALL)")
        columns = [
            row["column_name"]
            for row in await connection.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'audit_records' ORDER BY ordinal_position"
            )
        ]
        rows = [
            tuple(row)
            for row in await connection.fetch(
                "SELECT * FROM audit_records ORDER BY recorded_at, tenant_id, seq"
            )
        ]
        started = time.perf_counter()
        for first in range(0, len(rows), POLL):
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "bench_raw_copy", records=rows[first : first + POLL], columns=columns
                )
        elapsed = time.perf_counter() - started
        await connection.execute("DROP TABLE bench_raw_copy")
    finally:
        await connection.close()
    return {"raw_copy_events_per_s": round(len(rows) / elapsed), "raw_copy_rows": len(rows)}


async def _verify(settings: Settings) -> dict[str, float]:
    """The background job's round over every chain, as the service's leader runs it."""
    async with running(DEFINITION, settings, background=False) as service:
        settle_the_heap()
        started, cpu, postgres_before = time.perf_counter(), _cpu(), _postgres_cpu()
        outcome = await verify_round(service.deps)
        elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
        postgres = _postgres_spent(postgres_before)
    if outcome.broken:
        raise SystemExit(f"{len(outcome.broken)} chains did not verify")
    checked = outcome.checked
    return {
        "verify_events_per_s": round(checked / elapsed),
        "verify_process_cpu_us_per_event": round(cpu / checked * 1e6, 2),
        "verify_postgres_cpu_us_per_event": round(postgres / checked * 1e6, 2),
        "verified_events": checked,
    }


def main() -> None:
    args = _arguments()
    tenants = [uuid.uuid4() for _ in range(args.tenants)]
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        bootstrap = infrastructure.kafka_bootstrap_servers
        database = stack.enter_context(
            fresh_database(infrastructure.postgres_admin_url, "bench_audit")
        )
        settings = Settings(**settings_values("audit", infrastructure, database))
        migrate(settings, DEFINITION.migrations)
        superuser = make_url(infrastructure.postgres_admin_url).set(
            database=database.name, drivername="postgresql"
        )
        topic = f"bench.audit.{uuid.uuid4().hex[:8]}"
        asyncio.run(create_topics(bootstrap, [topic], partitions=6))
        stack.callback(lambda: asyncio.run(delete_topics(bootstrap, [topic])))
        print(f"putting {args.events} events of {args.tenants} tenants on {topic}")
        asyncio.run(_fill(bootstrap, topic, _envelopes(args.events, tenants, args.payload_bytes)))
        print("ingesting")
        figures: dict[str, float] = {"events": args.events, "tenants": args.tenants}
        figures |= uvloop.run(_ingest(settings, bootstrap, topic, args.events))
        print("raw COPY of the same rows")
        figures |= asyncio.run(_raw_copy(superuser.render_as_string(hide_password=False)))
        figures["ingest_share_of_raw_copy"] = round(
            figures["ingest_events_per_s"] / figures["raw_copy_events_per_s"], 2
        )
        print("verifying")
        figures |= uvloop.run(_verify(settings))
    report(
        figures,
        {
            "ingest_events_per_s": (">=", 30_000),
            "ingest_share_of_raw_copy": (">=", 0.5),
            "verify_events_per_s": (">=", 300_000),
        },
    )
    path = save("audit", figures, events=args.events, tenants=args.tenants, poll=POLL)
    print(f"saved {path}")


if __name__ == "__main__":
    os.environ.setdefault("MANDI_LOG_LEVEL", "WARNING")
    main()
