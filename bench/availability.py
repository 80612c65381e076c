"""Availability benchmark: reserve commands through one consumer process, and radius searches.

On the local PostgreSQL (PostGIS), Kafka and Redis, in a database of its own:

  commands  `python -m mandi_availability consume`, one process, applies ReserveQuantity commands
            sent to mandi.availability.commands (each: inbox claim, the availability locked and
            updated, its event and the saga's reply written to the outbox; a poll's commands of
            one tenant share a transaction and one offset commit).
            Spread over 1,000 availabilities, then all against one hot availability: commands
            per second from the first sent until the last reply is committed, and the consumer
            process's CPU per command (/proc utime+stime).
            Raw baseline, in the same run: the reservation alone as one SQL UPDATE per command
            straight through asyncpg (no Kafka, no inbox, no outbox), sequentially.
  radius    p50/p95 of a search within 50 km of a market, through the service's list use case
            (RLS, a read-only transaction, the page assembled), over 100,000 availabilities.
            Raw baseline: the same radius SQL through asyncpg.

No other `availability` consumer may run meanwhile (stop `make dev` first): the group is shared.
Prints each figure beside its target and saves bench/results/availability.json.
Run: make bench-availability   (or: uv run python bench/availability.py --commands 2000)
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
from benchlib import percentile, report, save
from commands import command_run, consumer_pid, skip_backlog

from mandi_availability.config import Settings
from mandi_availability.domain.offers import OfferKind
from mandi_availability.entrypoints.service import DEFINITION
from mandi_availability.service_layer import offers
from mandi_availability.service_layer.unit_of_work import OfferFilter, PageRequest
from mandi_contracts import EVENTS, ReserveQuantity
from mandi_messaging import commands_topic, events_topic, replies_topic
from mandi_runtime import migrate, running
from mandi_security import Principal, PrincipalType
from mandi_testing import as_tenant, find_infrastructure, fresh_database
from mandi_testing.messaging import envelope_of
from mandi_testing.platform import service_secrets, settings_values
from mandi_testing.processes import running_consumers, service_environment

TARGETS = {
    "commands_per_s": (">=", 500.0),
    "command_cpu_ms": ("<=", 2.0),
    "radius_search_p95_ms": ("<=", 20.0),
}
COMMANDS = commands_topic("availability")
MARKETS = ((22.30, 70.80), (18.40, 76.56), (25.18, 75.83), (30.70, 76.22))  # APMC yards
_OFFERS = """
    INSERT INTO offers (id, tenant_id, kind, partner_id, commodity, grade, quality, base_unit,
        quantity, reserved, minimum_lot, price, currency, price_unit, latitude, longitude,
        state, city, label, delivery_from, delivery_to, valid_until, status, version,
        created_at, updated_at)
    SELECT gen_random_uuid(), $1, 'availability', gen_random_uuid(), 'cotton', 'Shankar-6', '{}',
        'kg', $3, 0, 1, 40000 + n % 30000, 'INR', 'candy',
        8 + (n * 7919 % 2000) / 100.0, 68 + (n * 104729 % 2700) / 100.0, 'S', 'C', '',
        '2030-01-01', '2030-01-15', now() + interval '7 days', 'published', 1,
        now() - make_interval(secs => n), now()
    FROM generate_series(1::bigint, $2::bigint) AS n
"""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=5000, help="spread over the lots")
    parser.add_argument("--hot-commands", type=int, default=2000, help="against one lot")
    parser.add_argument("--lots", type=int, default=1000, help="availabilities commanded")
    parser.add_argument("--offers", type=int, default=100_000, help="availabilities searched")
    parser.add_argument("--searches", type=int, default=500)
    return parser.parse_args()


async def _seed(database: Any, tenant: uuid.UUID, count: int, quantity: int) -> None:
    await as_tenant(database.app_url, tenant, lambda c: c.execute(_OFFERS, tenant, count, quantity))
    owner = await asyncpg.connect(database.owner_url)
    try:
        await owner.execute("ANALYZE offers")
    finally:
        await owner.close()


async def _lot_ids(database: Any, tenant: uuid.UUID, count: int) -> list[uuid.UUID]:
    rows = await as_tenant(
        database.app_url, tenant, lambda c: c.fetch("SELECT id FROM offers LIMIT $1", count)
    )
    return [row["id"] for row in rows]


async def _command_run(
    bootstrap: str, database: Any, tenant: uuid.UUID, lots: list[uuid.UUID], *, count: int, pid: int
) -> tuple[float, float]:
    """Commands per second and CPU ms per command of the consumer, for `count` commands."""
    deadline = datetime.now(UTC) + timedelta(hours=1)
    envelopes = [
        envelope_of(
            ReserveQuantity(
                tenant_id=tenant,
                saga_id=uuid.uuid4(),
                step="reserve",
                availability_id=lots[n % len(lots)],
                quantity=Decimal(1),
                deadline=deadline,
            ),
            subject=str(lots[n % len(lots)]),
            registry=EVENTS,
            tenant_id=tenant,
        )
        for n in range(count)
    ]
    return await command_run(
        bootstrap,
        database.owner_url,
        tenant,
        topics=(COMMANDS, replies_topic("availability")),
        envelopes=envelopes,
        pid=pid,
    )


async def _raw_updates(
    database: Any, tenant: uuid.UUID, lots: list[uuid.UUID], count: int
) -> float:
    update = (
        "UPDATE offers SET reserved = reserved + 1, version = version + 1"
        " WHERE id = $1 AND reserved + 1 <= quantity"
    )

    async def run(connection: asyncpg.Connection) -> float:
        started = time.perf_counter()
        for n in range(count):
            await connection.execute(update, lots[n % len(lots)])
        return count / (time.perf_counter() - started)

    return float(await as_tenant(database.app_url, tenant, run))


async def _radius(
    settings: Settings, database: Any, tenant: uuid.UUID, searches: int
) -> dict[str, float]:
    viewer = Principal(tenant, "bench", PrincipalType.INTERNAL, None, frozenset({"*"}))
    sql = (
        "SELECT id FROM offers WHERE kind = 'availability' AND status = 'published' AND"
        " ST_DWithin(place, ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography, 50000)"
        " ORDER BY created_at, id LIMIT 20"
    )
    service_ms, raw_ms = [], []
    async with running(DEFINITION, settings, background=False) as service:
        for n in range(searches):
            latitude, longitude = MARKETS[n % len(MARKETS)]
            criteria = replace(OfferFilter(), near=(latitude, longitude, 50_000))
            started = time.perf_counter()
            await offers.list_offers(
                service.deps, viewer, OfferKind.AVAILABILITY, criteria, PageRequest(20)
            )
            service_ms.append(1000 * (time.perf_counter() - started))

    async def raw(connection: asyncpg.Connection) -> None:
        for n in range(searches):
            latitude, longitude = MARKETS[n % len(MARKETS)]
            started = time.perf_counter()
            await connection.fetch(sql, latitude, longitude)
            raw_ms.append(1000 * (time.perf_counter() - started))

    await as_tenant(database.app_url, tenant, raw)
    return {
        "radius_search_p50_ms": round(percentile(service_ms, 0.50), 2),
        "radius_search_p95_ms": round(percentile(service_ms, 0.95), 2),
        "raw_radius_search_p50_ms": round(percentile(raw_ms, 0.50), 2),
        "raw_radius_search_p95_ms": round(percentile(raw_ms, 0.95), 2),
    }


async def _commands(
    args: argparse.Namespace, infrastructure: Any, database: Any
) -> dict[str, float]:
    tenant = uuid.uuid4()
    await _seed(database, tenant, args.lots, quantity=10**9)
    lots = await _lot_ids(database, tenant, args.lots)
    bootstrap = infrastructure.kafka_bootstrap_servers
    await skip_backlog(
        bootstrap,
        "availability",
        [COMMANDS, events_topic("partners"), events_topic("availability")],
    )
    environment = {
        **service_environment("availability", infrastructure, database, port=0),
        **service_secrets("availability"),
    }
    figures: dict[str, float] = {}
    with TemporaryDirectory() as logs, running_consumers("availability", environment, Path(logs)):
        pid = consumer_pid("mandi_availability")
        rate, cpu = await _command_run(
            bootstrap, database, tenant, lots, count=args.commands, pid=pid
        )
        figures.update(commands_per_s=round(rate, 1), command_cpu_ms=round(cpu, 3))
        hot_rate, hot_cpu = await _command_run(
            bootstrap, database, tenant, lots[:1], count=args.hot_commands, pid=pid
        )
        figures.update(hot_commands_per_s=round(hot_rate, 1), hot_command_cpu_ms=round(hot_cpu, 3))
    figures["raw_update_commands_per_s"] = round(
        await _raw_updates(database, tenant, lots, args.commands), 1
    )
    return figures


def main() -> None:
    args = _arguments()
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        database = stack.enter_context(
            fresh_database(
                infrastructure.postgres_admin_url,
                "bench_availability",
                Settings.database_extensions,
            )
        )
        settings = Settings(**settings_values("availability", infrastructure, database))
        migrate(settings, DEFINITION.migrations)
        figures = asyncio.run(_commands(args, infrastructure, database))
        searched = uuid.uuid4()
        asyncio.run(_seed(database, searched, args.offers, quantity=1000))
        figures.update(asyncio.run(_radius(settings, database, searched, args.searches)))
    report(figures, TARGETS)
    saved = save("availability", figures, commands=args.commands, offers=args.offers)
    print(f"saved {saved}")


if __name__ == "__main__":
    main()
