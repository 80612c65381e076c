"""Risk benchmark: the trade saga's exposure commands through one consumer process.

On the local PostgreSQL and Kafka, in a database of its own:

  commands  `python -m mandi_risk consume`, one process, applies CheckAndReserveExposure
            commands sent to mandi.risk.commands (each: inbox claim, the buyer's limit read, its
            exposure row locked and updated, its event and the saga's reply written to the
            outbox; a poll's commands of one tenant share a transaction and one offset commit).
            Spread over 1,000 buyers, then all against one hot buyer: commands per second from
            the first sent until the last reply is in the outbox, and the consumer process's CPU
            per command (/proc utime+stime).
            Raw baseline, in the same run: the reservation alone as one SQL UPDATE per command
            straight through asyncpg (no Kafka, no inbox, no outbox), sequentially.

Assessments are measured through the gateway by `make bench-api` (assess scenarios).
No other `risk` consumer may run meanwhile (stop `make dev` first): the group is shared.
Prints each figure beside its target and saves bench/results/risk.json.
Run: make bench-risk   (or: uv run python bench/risk.py --commands 2000)
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
from benchlib import report, save
from commands import command_run, consumer_pid, skip_backlog

from mandi_contracts import EVENTS, CheckAndReserveExposure
from mandi_messaging import commands_topic, events_topic, replies_topic
from mandi_risk.config import Settings
from mandi_risk.entrypoints.service import DEFINITION
from mandi_runtime import migrate
from mandi_testing import as_tenant, find_infrastructure, fresh_database
from mandi_testing.messaging import envelope_of
from mandi_testing.platform import service_secrets, settings_values
from mandi_testing.processes import running_consumers, service_environment

TARGETS = {
    "exposure_commands_per_s": (">=", 500.0),
    "exposure_command_cpu_ms": ("<=", 2.0),
}
COMMANDS = commands_topic("risk")
# Limits of a billion rupees: every reservation of the run fits.
_BUYERS = """
    INSERT INTO credit_limits (tenant_id, partner_id, amount, currency, reason, set_by, set_at,
        version)
    SELECT $1, gen_random_uuid(), 1000000000, 'INR', 'bench', 'bench', now(), 1
    FROM generate_series(1, $2)
"""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=5000, help="spread over the buyers")
    parser.add_argument("--hot-commands", type=int, default=2000, help="against one buyer")
    parser.add_argument("--buyers", type=int, default=1000)
    return parser.parse_args()


async def _buyers(database: Any, tenant: uuid.UUID, count: int) -> list[uuid.UUID]:
    async def seed(connection: asyncpg.Connection) -> list[uuid.UUID]:
        await connection.execute(_BUYERS, tenant, count)
        return [
            row["partner_id"]
            for row in await connection.fetch("SELECT partner_id FROM credit_limits")
        ]

    return list(await as_tenant(database.app_url, tenant, seed))


def _envelopes(tenant: uuid.UUID, buyers: list[uuid.UUID], count: int) -> list[Any]:
    seller = uuid.uuid4()
    return [
        envelope_of(
            CheckAndReserveExposure(
                tenant_id=tenant,
                saga_id=uuid.uuid4(),
                step="reserve-credit",
                buyer_id=buyers[n % len(buyers)],
                seller_id=seller,
                amount=Decimal("1000.00"),
                currency="INR",
            ),
            subject=str(buyers[n % len(buyers)]),
            registry=EVENTS,
            tenant_id=tenant,
        )
        for n in range(count)
    ]


async def _raw_updates(
    database: Any, tenant: uuid.UUID, buyers: list[uuid.UUID], count: int
) -> float:
    update = (
        "UPDATE credit_limits SET amount = amount - 1000 WHERE partner_id = $1 AND amount >= 1000"
    )

    async def run(connection: asyncpg.Connection) -> float:
        started = time.perf_counter()
        for n in range(count):
            await connection.execute(update, buyers[n % len(buyers)])
        return count / (time.perf_counter() - started)

    return float(await as_tenant(database.app_url, tenant, run))


async def _measure(
    args: argparse.Namespace, infrastructure: Any, database: Any
) -> dict[str, float]:
    tenant = uuid.uuid4()
    buyers = await _buyers(database, tenant, args.buyers)
    bootstrap = infrastructure.kafka_bootstrap_servers
    await skip_backlog(bootstrap, "risk", [COMMANDS, events_topic("partners")])
    environment = {
        **service_environment("risk", infrastructure, database, port=0),
        **service_secrets("risk"),
    }
    topics = (COMMANDS, replies_topic("risk"))
    figures: dict[str, float] = {}
    with TemporaryDirectory() as logs, running_consumers("risk", environment, Path(logs)):
        pid = consumer_pid("mandi_risk")
        spread = _envelopes(tenant, buyers, args.commands)
        rate, cpu = await command_run(
            bootstrap, database.owner_url, tenant, topics=topics, envelopes=spread, pid=pid
        )
        figures.update(
            exposure_commands_per_s=round(rate, 1), exposure_command_cpu_ms=round(cpu, 3)
        )
        hot = _envelopes(tenant, buyers[:1], args.hot_commands)
        rate, cpu = await command_run(
            bootstrap, database.owner_url, tenant, topics=topics, envelopes=hot, pid=pid
        )
        figures.update(
            hot_exposure_commands_per_s=round(rate, 1), hot_exposure_command_cpu_ms=round(cpu, 3)
        )
    raw = await _raw_updates(database, tenant, buyers, args.commands)
    figures["raw_update_commands_per_s"] = round(raw, 1)
    return figures


def main() -> None:
    args = _arguments()
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        database = stack.enter_context(
            fresh_database(infrastructure.postgres_admin_url, "bench_risk")
        )
        settings = Settings(**settings_values("risk", infrastructure, database))
        migrate(settings, DEFINITION.migrations)
        figures = asyncio.run(_measure(args, infrastructure, database))
    report(figures, TARGETS)
    saved = save("risk", figures, commands=args.commands)
    print(f"saved {saved}")


if __name__ == "__main__":
    main()
