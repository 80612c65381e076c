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

  assess    CPU ms per assessment of the risk service's `serve` process (one uvicorn worker,
            tracing and an access line per request, its relay and consumers beside), asked
            directly with the gateway's principal headers at a steady --rate from the load
            process of bench-api (bench/api_load.py), its idle CPU taken off. The trained model
            decides; the bureau is the fake one. Three runs, each buyer assessed once per run:
              assessment_cpu_ms                the bureau asked for every buyer (breaker closed);
              assessment_fresh_bureau_cpu_ms   the same buyers again: their scores are fresh,
                                               so the bureau is not asked;
              assessment_breaker_open_cpu_ms   new buyers with the bureau failing until its
                                               breaker opened: no call leaves for it.
            Raw baseline, in the same run: the trained model's scoring alone, in process.

No other `risk` consumer may run meanwhile (stop `make dev` first): the group is shared.
Prints each figure beside its target and saves bench/results/risk.json.
Run: make bench-risk   (or: uv run python bench/risk.py --commands 2000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
from benchlib import idle_rates, listening_pids, profiled, report, save
from commands import command_run, consumer_pid, skip_backlog

from mandi_contracts import EVENTS, CheckAndReserveExposure
from mandi_messaging import commands_topic, events_topic, replies_topic
from mandi_risk.adapters.training import generate_history, train
from mandi_risk.config import Settings
from mandi_risk.domain.features import Features
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.domain.trained_model import LogisticScorer
from mandi_risk.entrypoints.service import DEFINITION
from mandi_risk.service_layer import models
from mandi_runtime import migrate, running
from mandi_security import GATEWAY_SECRET_HEADER, Principal, PrincipalType, gateway_headers
from mandi_testing import as_tenant, find_infrastructure, fresh_database
from mandi_testing.fake_bureau import running_fake_bureau
from mandi_testing.messaging import envelope_of
from mandi_testing.platform import service_secrets, settings_values
from mandi_testing.processes import (
    free_port,
    running_consumers,
    running_service,
    service_environment,
)

TARGETS = {
    "assessment_cpu_ms": ("<=", 3.0),
    "assessment_fresh_bureau_cpu_ms": ("<=", 3.0),
    "assessment_breaker_open_cpu_ms": ("<=", 3.0),
    "exposure_commands_per_s": (">=", 500.0),
    "exposure_command_cpu_ms": ("<=", 2.0),
}
LOAD = Path(__file__).parent / "api_load.py"
ASSESSMENT = {"commodity": "cotton", "value": "2240000.00", "currency": "INR"}
_PARTNERS = """
    INSERT INTO partners (tenant_id, partner_id, standing, group_id, director_fingerprints,
        contact_fingerprints, version, rating, payments_on_time, payments_late, days_late)
    SELECT $1, gen_random_uuid(), 'approved', NULL, '{}', '{}', 2, 'A', 18, 2, 30
    FROM generate_series(1, $2)
"""
_PARTNER = """
    INSERT INTO partners (tenant_id, partner_id, standing, group_id, director_fingerprints,
        contact_fingerprints, version, rating, payments_on_time, payments_late, days_late)
    VALUES ($1, $2, 'approved', NULL, '{}', '{}', 2, NULL, 0, 0, 0)
"""
_LIMITS = """
    INSERT INTO credit_limits (tenant_id, partner_id, amount, currency, reason, set_by, set_at,
        version)
    SELECT $1, partner_id, 1000000000, 'INR', 'bench', 'bench', now(), 1 FROM partners
"""
BUREAU_TOKEN = uuid.uuid4().hex  # the fake bureau's, for this run
IDLE_SECONDS = 5.0
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
    parser.add_argument("--assessments", type=int, default=2000, help="per bureau state")
    parser.add_argument("--rate", type=float, default=100.0, help="assessments per second")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write py-spy's collapsed stacks of the serving process per assessment run here",
    )
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
        admin_url = infrastructure.postgres_admin_url
        database = stack.enter_context(fresh_database(admin_url, "bench_risk"))
        settings = Settings(**settings_values("risk", infrastructure, database))
        migrate(settings, DEFINITION.migrations)
        figures = asyncio.run(_measure(args, infrastructure, database))
        assessing = stack.enter_context(fresh_database(admin_url, "bench_risk_assess"))
        figures |= _assessments(args, infrastructure, assessing, stack)
    report(figures, TARGETS)
    saved = save("risk", figures, commands=args.commands, assessments=args.assessments)
    print(f"saved {saved}")


def _assessments(
    args: argparse.Namespace, infrastructure: Any, database: Any, stack: ExitStack
) -> dict[str, float]:
    """CPU ms per assessment of the serving process: bureau asked, fresh, breaker open."""
    workdir = Path(stack.enter_context(TemporaryDirectory()))
    bureau = stack.enter_context(running_fake_bureau(BUREAU_TOKEN, workdir))
    port = free_port()
    environment = {
        **service_environment("risk", infrastructure, database, port=port),
        **service_secrets("risk"),
        "MANDI_RISK_BUREAU_URL": bureau.url,
        "MANDI_RISK_BUREAU_TOKEN": BUREAU_TOKEN,
        "MANDI_RISK_BUREAU_RESET_SECONDS": "3600",  # once open, it stays open for the run
    }
    service = stack.enter_context(running_service("risk", environment, port, workdir))
    settings = Settings(**settings_values("risk", infrastructure, database, environment))
    count = args.assessments
    officer, seller, buyers = asyncio.run(_seeded(settings, database, 3 * count + 100))
    assert settings.gateway_secret is not None  # noqa: S101 - declared with a default maker
    headers = {
        **gateway_headers(officer),
        GATEWAY_SECRET_HEADER: settings.gateway_secret.get_secret_value(),
    }
    processes = {"risk": listening_pids(port)}
    body = {**ASSESSMENT, "buyer_id": "{id}", "seller_id": str(seller)}
    plan = {
        "base_url": service.url,
        "headers": headers,
        "method": "POST",
        "path": "/assessments",
        "body": json.dumps(body),
        "rate": args.rate,
        "pids": processes,
        "settle_seconds": 0.5,
    }
    warm, asked, failing = buyers[:100], buyers[100 : 100 + count], buyers[100 + count :]
    _load({**plan, "targets": warm, "count": len(warm)})
    idle = idle_rates(processes, IDLE_SECONDS)["risk"]
    figures = {"idle_risk_cpu_ms_per_s": round(idle * 1000, 3)}
    asking = _cpu_per_request({**plan, "targets": asked}, count, idle, ("asked", args.profile))
    figures["assessment_cpu_ms"] = asking
    calls = bureau.calls()
    fresh = _cpu_per_request({**plan, "targets": asked}, count, idle, ("fresh", args.profile))
    figures["assessment_fresh_bureau_cpu_ms"] = fresh
    figures["bureau_calls_while_fresh"] = bureau.calls() - calls
    bureau.set_mode("fail")
    _load({**plan, "targets": failing[:50], "count": 50})  # the breaker opens
    calls = bureau.calls()
    open_targets = failing[50:]
    figures["assessment_breaker_open_cpu_ms"] = _cpu_per_request(
        {**plan, "targets": open_targets}, len(open_targets), idle, ("open", args.profile)
    )
    figures["bureau_calls_while_open"] = bureau.calls() - calls
    figures["raw_scoring_ms"] = _raw_scoring_ms(count)
    return figures


def _load(plan: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, str(LOAD)]
    output = subprocess.run(
        command, input=json.dumps(plan), capture_output=True, text=True, check=True
    ).stdout
    outcome: dict[str, Any] = json.loads(output)
    failed = outcome["unsent"] + sum(n for s, n in outcome["statuses"].items() if s != "201")
    if failed:
        raise SystemExit(f"assessments failed: {outcome['statuses']}, unsent {outcome['unsent']}")
    return outcome


def _cpu_per_request(
    plan: dict[str, Any], count: int, idle: float, profile: tuple[str, Path | None]
) -> float:
    with profiled(plan["pids"], *profile):
        outcome = _load({**plan, "count": count})
    busy = outcome["cpu_s"]["risk"] - idle * outcome["window_s"]
    return round(busy * 1000 / len(outcome["latencies_ms"]), 3)


async def _seeded(
    settings: Settings, database: Any, count: int
) -> tuple[Principal, uuid.UUID, list[str]]:
    """In a new tenant: `count` approved buyers rated A with a limit, an approved seller, and a
    trained model promoted; a risk officer of it, the seller and the buyers' ids."""
    tenant, seller = uuid.uuid4(), uuid.uuid4()
    scopes = frozenset({"*:read", "risk:write", "risk:assess"})
    officer = Principal(tenant, "bench.officer", PrincipalType.INTERNAL, None, scopes)

    async def seed(connection: asyncpg.Connection) -> list[str]:
        await connection.execute(_PARTNERS, tenant, count)
        await connection.execute(_LIMITS, tenant)
        await connection.execute(_PARTNER, tenant, seller)
        rows = await connection.fetch("SELECT partner_id FROM credit_limits")
        return [str(row["partner_id"]) for row in rows]

    buyers = list(await as_tenant(database.app_url, tenant, seed))
    async with running(DEFINITION, settings, background=False) as service:
        trained = train(generate_history(10_000, 7), name="logistic", version=1)
        await models.register(service.deps, tenant, trained, by="bench")
        await models.promote(service.deps, officer, ModelRef("logistic", 1))
    return officer, seller, buyers


def _raw_scoring_ms(count: int) -> float:
    """The trained model's scoring alone, per assessment: what the rest costs is the service."""
    trained = train(generate_history(2000, 7), name="logistic", version=1)
    scorer = LogisticScorer(trained.model, trained.artifact.weights)
    features = Features(0.7, 0.71, 0.9, 0.02, 0.3, 0.8)
    started = time.process_time()
    for _ in range(count):
        scorer.score(features)
    return round(1000 * (time.process_time() - started) / count, 4)


if __name__ == "__main__":
    main()
