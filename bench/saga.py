"""Saga benchmark: the trade saga through availability, risk and matching, each a `serve`
process (HTTP API, consumers and outbox relay on one event loop), on the local PostgreSQL and
Kafka, each service in a database of its own.

Seeded through the services' own APIs and events: approved partners (their events on
mandi.partners.events), a cotton catalog, credit limits, and pairs of an availability and a
requirement at places 10 km apart (matching's radius is 2 km here, so each requirement has one
candidate and one proposal).

  latency   proposals accepted at a steady --rate (POST /proposals/{id}/accept with an
            Idempotency-Key): accept sent -> trade.confirmed seen on mandi.matching.events,
            p50/p95/p99; first a fifth of them at --light-rate (`light_saga_*`), well within
            what the machine sustains, to show the chain's latency unloaded. Each saga is
            three round trips (reserve quantity, reserve exposure, confirm), each one outbox
            relay and consumer hop there and one back.
  burst     --burst proposals accepted with at most --concurrency sagas in flight (the next
            is accepted when a trade is confirmed): sagas per second from the first accept until
            the last trade.confirmed is seen, and each process's CPU ms per saga (/proc
            utime+stime): the three services, PostgreSQL (all its processes), Kafka's JVM, and
            the benchmark itself.
  match     requirements published at a steady rate, each with an availability waiting for it:
            publish sent -> its first match.proposed seen on mandi.matching.events, p50/p99.
  hops      from matching's saga history of the latency run: each step's command sent ->
            reply applied, p50/p99 (what bounds the saga, hop by hop).
  raw       the baseline, in the same run: one Kafka hop (produce -> consumed), p50/p99, at
            the latency run's rate.

No other `availability`, `risk` or `matching` consumer may run meanwhile (stop `make dev`
first): the groups are shared. Prints each figure beside its target and saves
bench/results/saga.json.
Run: make bench-saga   (or: uv run python bench/saga.py --latency-sagas 300 --burst 1000)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from benchlib import cpu_seconds, listening_pids, percentile, profiled, raw_kafka_hop, report, save
from commands import skip_backlog

from mandi_contracts import EVENTS, PartnerApproved, PartnerRegistered
from mandi_messaging import create_producer, events_topic
from mandi_security import GATEWAY_SECRET_HEADER, Principal, PrincipalType, gateway_headers
from mandi_testing import Infrastructure, as_tenant, find_infrastructure, fresh_database
from mandi_testing.messaging import envelope_of
from mandi_testing.platform import service_secrets
from mandi_testing.processes import RunningService, free_port, running_service, service_environment

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests-e2e"))
from offer_bodies import cotton_body, offer_terms

TARGETS = {
    "saga_p99_ms": ("<=", 150.0),
    "sagas_per_s_max": (">=", 200.0),
    "match_p99_ms": ("<=", 500.0),
}
SERVICES = ("availability", "risk", "matching")
GATEWAY = "bench-saga-gateway-secret"
MATCHING_EVENTS = events_topic("matching")
RAW_TOPIC = "mandi.bench.saga-hop"
SETUP_CONCURRENCY = 16


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-sagas", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="sagas per second, steadily")
    parser.add_argument(
        "--light-rate", type=float, default=10.0, help="a rate well within capacity, for hops"
    )
    parser.add_argument("--burst", type=int, default=1500, help="sagas accepted at once")
    parser.add_argument("--concurrency", type=int, default=64, help="sagas in flight at most")
    parser.add_argument("--requirements", type=int, default=200)
    parser.add_argument("--requirement-rate", type=float, default=20.0)
    parser.add_argument("--profile", type=Path, help="py-spy each process in the burst, here")
    parser.add_argument("--logs", type=Path, help="keep the services' logs here")
    return parser.parse_args()


@dataclass
class Desk:
    """The running services, the tenant and what was seeded."""

    services: dict[str, RunningService]
    databases: dict[str, Any]
    tenant: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        scopes = frozenset({"*"})
        operator = Principal(self.tenant, "bench.ops", PrincipalType.INTERNAL, None, scopes)
        self.headers = {**gateway_headers(operator), GATEWAY_SECRET_HEADER: GATEWAY}

    def url(self, service: str) -> str:
        return self.services[service].url

    def pids(self, service: str) -> list[int]:
        return listening_pids(self.services[service].port)


class Watch:
    """Reads mandi.matching.events from its end: when each trade was confirmed or its saga
    failed (by proposal), and when each requirement's first proposal was made."""

    def __init__(self, bootstrap: str) -> None:
        self.confirmed: dict[str, float] = {}
        self.failed: set[str] = set()
        self.proposed: dict[str, float] = {}
        self._saga_of: dict[str, str] = {}  # saga id -> proposal id
        self._ended: dict[str, asyncio.Future[None]] = {}
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer._client.force_metadata_update()  # noqa: SLF001 - no public way
        parts = self._consumer.partitions_for_topic(MATCHING_EVENTS) or set()
        partitions = [TopicPartition(MATCHING_EVENTS, part) for part in parts]
        self._consumer.assign(partitions)
        for partition, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(partition, offset)
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self._consumer.stop()

    def ended(self, proposal: str) -> asyncio.Future[None]:
        """Done when the proposal's trade is confirmed or its saga failed."""
        if proposal not in self._ended:
            self._ended[proposal] = asyncio.get_running_loop().create_future()
            if proposal in self.confirmed or proposal in self.failed:
                self._ended[proposal].set_result(None)
        return self._ended[proposal]

    def settled(self, proposals: list[str]) -> bool:
        return all(p in self.confirmed or p in self.failed for p in proposals)

    async def _read(self) -> None:
        async for record in self._consumer:
            seen = time.perf_counter()
            kind = dict(record.headers).get("ce_type", b"").decode()
            body = json.loads(record.value)
            if kind.startswith("mandi.proposal.accepted"):
                self._saga_of[body["saga_id"]] = body["proposal_id"]
            elif kind.startswith("mandi.trade.confirmed"):
                self.confirmed.setdefault(body["proposal_id"], seen)
                self._end(body["proposal_id"])
            elif kind.startswith("mandi.saga.failed") and body["saga_id"] in self._saga_of:
                self.failed.add(self._saga_of[body["saga_id"]])
                self._end(self._saga_of[body["saga_id"]])
            elif kind.startswith("mandi.match.proposed"):
                self.proposed.setdefault(body["requirement_id"], seen)

    def _end(self, proposal: str) -> None:
        waiting = self._ended.get(proposal)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def wait(self, done: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not seen within {seconds} s")
            await asyncio.sleep(0.01)


def _start(stack: ExitStack, infrastructure: Infrastructure, logs: Path) -> Desk:
    admin = infrastructure.postgres_admin_url
    services, databases = {}, {}
    for name in SERVICES:
        extensions = ("postgis",) if name in {"availability", "matching"} else ()
        database = stack.enter_context(fresh_database(admin, f"bench_saga_{name}", extensions))
        asyncio.run(_skip_backlogs(infrastructure.kafka_bootstrap_servers, name))
        port = free_port()
        environment = {
            **service_environment(name, infrastructure, database, port=port),
            **service_secrets(name, {"gateway.secret": GATEWAY}),
            **_tuning(name),
        }
        services[name] = stack.enter_context(running_service(name, environment, port, logs))
        databases[name] = database
    return Desk(services, databases)


def _tuning(name: str) -> dict[str, str]:
    if name == "matching":  # each requirement meets the one availability placed beside it
        return {"MANDI_MATCHING_MATCH_RADIUS_KM": "2"}
    return {}


async def _skip_backlogs(bootstrap: str, name: str) -> None:
    definition = __import__(f"mandi_{name}.entrypoints.service", fromlist=["DEFINITION"]).DEFINITION
    for consumers in definition.consumers:
        await skip_backlog(bootstrap, consumers.group, list(consumers.topics))


async def _bounded(works: Iterable[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(work: Awaitable[Any]) -> Any:
        async with gate:
            return await work

    return await asyncio.gather(*(one(work) for work in works))


async def _partners(desk: Desk, bootstrap: str, count: int) -> list[uuid.UUID]:
    """`count` approved partners, told to every service as the partners service tells them."""
    partners = [uuid.uuid4() for _ in range(count)]
    producer = create_producer(bootstrap, client_id="bench-saga")
    await producer.start()
    try:
        sent = []
        for partner in partners:
            for event in _partner_events(desk.tenant, partner):
                envelope = envelope_of(
                    event, subject=str(partner), registry=EVENTS, tenant_id=desk.tenant
                )
                sent.append(
                    await producer.send(
                        events_topic("partners"),
                        value=envelope.data,
                        key=str(partner).encode(),
                        headers=envelope.kafka_headers(),
                    )
                )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    await _until_counted(desk, "availability", "SELECT count(*) FROM partner_standings", count)
    await _until_counted(desk, "matching", "SELECT count(*) FROM partners WHERE may_trade", count)
    return partners


def _partner_events(tenant: uuid.UUID, partner: uuid.UUID) -> list[Any]:
    ids = {"tenant_id": tenant, "partner_id": partner}
    registered = PartnerRegistered(
        **ids,
        version=1,
        group_id=None,
        director_fingerprints=[],
        contact_fingerprints=[],
        partner_types=["buyer", "seller"],
        country="IN",
        tax_ids=[],
        registered_by="bench",
    )
    return [registered, PartnerApproved(**ids, version=2, approved_by="bench")]


async def _until_counted(desk: Desk, service: str, query: str, count: int) -> None:
    async def counted(connection: asyncpg.Connection) -> int:
        return int(await connection.fetchval(query))

    deadline = time.monotonic() + 120
    owner = desk.databases[service].owner_url
    while await as_tenant(owner, desk.tenant, counted) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service} did not take in {count} rows of `{query}`")
        await asyncio.sleep(0.2)


async def _credit(desk: Desk, buyers: list[uuid.UUID]) -> None:
    """A large limit for every buyer, as a risk officer would set it."""

    async def insert(connection: asyncpg.Connection) -> None:
        await connection.executemany(
            "INSERT INTO credit_limits (tenant_id, partner_id, amount, currency, reason, set_by,"
            " set_at, version) VALUES ($1, $2, 1000000000000, 'INR', 'bench', 'bench', now(), 1)",
            [(desk.tenant, buyer) for buyer in buyers],
        )

    await as_tenant(desk.databases["risk"].owner_url, desk.tenant, insert)


def _place(index: int) -> dict[str, Any]:
    """Places about 10 km apart, so no two pairs meet within matching's 2 km radius."""
    latitude = 10 + (index // 150) * 0.1
    longitude = 72 + (index % 150) * 0.1
    return {"latitude": latitude, "longitude": longitude, "state": "Gujarat", "city": "Rajkot"}


async def _offer(
    client: httpx.AsyncClient, desk: Desk, plural: str, partner: uuid.UUID, index: int
) -> tuple[str, str]:
    """A draft offer at place `index`; its id and ETag."""
    body = {**offer_terms(), "place": _place(index), "partner_id": str(partner)}
    if plural == "requirements":
        body["price"] = "60000.00"
    answer = await client.post(f"{desk.url('availability')}/{plural}", json=body)
    answer.raise_for_status()
    return answer.json()["id"], answer.headers["ETag"]


async def _publish(
    client: httpx.AsyncClient, desk: Desk, plural: str, offer: tuple[str, str]
) -> None:
    offer_id, version = offer
    url = f"{desk.url('availability')}/{plural}/{offer_id}/publish"
    answer = await client.post(url, headers={"If-Match": version})
    answer.raise_for_status()


async def _pairs(
    client: httpx.AsyncClient, desk: Desk, sellers: list[uuid.UUID], buyers: list[uuid.UUID]
) -> list[str]:
    """An availability and a requirement on the book at each place; the proposals made."""

    async def pair(index: int) -> None:
        availability = await _offer(client, desk, "availabilities", sellers[index], index)
        await _publish(client, desk, "availabilities", availability)
        requirement = await _offer(client, desk, "requirements", buyers[index], index)
        await _publish(client, desk, "requirements", requirement)

    await _bounded((pair(index) for index in range(len(buyers))), SETUP_CONCURRENCY)
    query = "SELECT count(*) FROM proposals WHERE status = 'open'"
    await _until_counted(desk, "matching", query, len(buyers))

    async def proposals(connection: asyncpg.Connection) -> list[str]:
        rows = await connection.fetch("SELECT id FROM proposals WHERE status = 'open' ORDER BY id")
        return [str(row["id"]) for row in rows]

    return await as_tenant(desk.databases["matching"].owner_url, desk.tenant, proposals)


async def _accept(client: httpx.AsyncClient, desk: Desk, proposal: str) -> None:
    url = f"{desk.url('matching')}/proposals/{proposal}/accept"
    answer = await client.post(url, headers={"Idempotency-Key": f"bench-{proposal}"})
    if answer.status_code != 202:  # noqa: PLR2004 - Accepted
        raise RuntimeError(f"accept answered {answer.status_code}: {answer.text}")


async def _latency_run(
    client: httpx.AsyncClient, desk: Desk, watch: Watch, proposals: list[str], rate: float
) -> list[float]:
    """Accepts at a steady rate; each saga's accept -> trade.confirmed, in ms."""
    sent: dict[str, float] = {}
    started = time.perf_counter()

    async def at_its_time(index: int, proposal: str) -> None:
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        sent[proposal] = time.perf_counter()
        await _accept(client, desk, proposal)

    await asyncio.gather(*(at_its_time(i, p) for i, p in enumerate(proposals)))
    await watch.wait(lambda: watch.settled(proposals), 120, "latency run")
    return [1000 * (watch.confirmed[p] - sent[p]) for p in proposals if p in watch.confirmed]


async def _burst_run(
    client: httpx.AsyncClient,
    desk: Desk,
    watch: Watch,
    proposals: list[str],
    args: argparse.Namespace,
) -> dict[str, float]:
    """Accepts with at most `concurrency` sagas in flight; sagas/s and CPU per saga."""
    services = {name: desk.pids(name) for name in SERVICES}
    pids = {**services, **_infrastructure_pids(), "bench": [os.getpid()]}
    cpu_before = {name: _cpu(found) for name, found in pids.items()}
    started = time.perf_counter()

    async def one_saga(proposal: str) -> None:
        await _accept(client, desk, proposal)
        await asyncio.wait_for(watch.ended(proposal), 120)

    with profiled(services, "burst", args.profile):
        # Sagas in flight, not requests: a saga's slot frees once its trade is confirmed.
        await _bounded((one_saga(p) for p in proposals), args.concurrency)
    confirmed = [watch.confirmed[p] for p in proposals if p in watch.confirmed]
    elapsed = max(confirmed) - started
    figures = {"sagas_per_s_max": round(len(confirmed) / elapsed, 1)}
    for name, found in pids.items():
        after, before = _cpu(found), cpu_before[name]
        cpu = sum(after[pid] - before[pid] for pid in after.keys() & before.keys())
        figures[f"{name}_cpu_ms_per_saga"] = round(1000 * cpu / len(proposals), 3)
    return figures


async def _match_run(
    client: httpx.AsyncClient,
    desk: Desk,
    watch: Watch,
    partners: tuple[list[uuid.UUID], list[uuid.UUID]],
    args: argparse.Namespace,
    *,
    first_place: int,
) -> list[float]:
    """Publishes requirements at a steady rate beside waiting availabilities; publish -> first
    match.proposed, in ms."""
    sellers, buyers = partners
    count = args.requirements
    drafts = []
    for index in range(count):
        place = first_place + index
        availability = await _offer(client, desk, "availabilities", sellers[index], place)
        await _publish(client, desk, "availabilities", availability)
        drafts.append(await _offer(client, desk, "requirements", buyers[index], place))
    sent: dict[str, float] = {}
    started = time.perf_counter()

    async def at_its_time(index: int, draft: tuple[str, str]) -> None:
        await asyncio.sleep(max(0.0, started + index / args.requirement_rate - time.perf_counter()))
        sent[draft[0]] = time.perf_counter()
        await _publish(client, desk, "requirements", draft)

    await asyncio.gather(*(at_its_time(i, d) for i, d in enumerate(drafts)))
    await watch.wait(lambda: all(d[0] in watch.proposed for d in drafts), 60, "match run")
    return [1000 * (watch.proposed[d[0]] - sent[d[0]]) for d in drafts]


async def _hops(desk: Desk, prefix: str, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
    """Each saga step's command sent -> reply applied, from matching's saga history, of the
    trade sagas so far but those of the proposals in `exclude`."""

    async def durations(connection: asyncpg.Connection) -> list[asyncpg.Record]:
        return await connection.fetch("""
            SELECT sent.step, 1000 * extract(epoch FROM done.at - sent.at) AS ms,
                   sagas.data ->> 'proposal_id' AS proposal
            FROM saga_history sent
            JOIN saga_history done ON done.saga_id = sent.saga_id AND done.step = sent.step
            JOIN sagas ON sagas.id = sent.saga_id
            WHERE sent.kind = 'command_sent' AND done.kind = 'completed'
              AND sagas.type = 'trade'
        """)

    rows = await as_tenant(desk.databases["matching"].owner_url, desk.tenant, durations)
    figures: dict[str, float] = {}
    for step in ("reserve-quantity", "reserve-exposure", "confirm"):
        values = [
            float(r["ms"]) for r in rows if r["step"] == step and r["proposal"] not in exclude
        ]
        name = step.replace("-", "_")
        figures[f"{prefix}hop_{name}_p50_ms"] = round(percentile(values, 0.50), 1)
        figures[f"{prefix}hop_{name}_p99_ms"] = round(percentile(values, 0.99), 1)
    return figures


def _split(proposals: list[str]) -> tuple[list[str], list[str]]:
    """A fifth for the light run, the rest for the steady one."""
    cut = max(1, len(proposals) // 5)
    return proposals[:cut], proposals[cut:]


def _cpu(pids: list[int]) -> dict[int, float]:
    """Each process's CPU seconds so far; a process that has ended is left out (a database
    connection closed meanwhile: its share is lost, so PostgreSQL's figure is a floor)."""
    seconds = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            seconds[pid] = cpu_seconds(pid)
    return seconds


def _infrastructure_pids() -> dict[str, list[int]]:
    """PostgreSQL's processes (server, backends, replica) and Kafka's JVM, by command line."""
    found: dict[str, list[int]] = {"postgres": [], "kafka": []}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes()
        except OSError:
            continue
        if command.startswith(b"postgres") or b"/bin/postgres" in command:
            found["postgres"].append(int(cmdline.parent.name))
        elif b"kafka.Kafka" in command:
            found["kafka"].append(int(cmdline.parent.name))
    return found


def _spread(name: str, values: list[float]) -> dict[str, float]:
    return {
        f"{name}_p50_ms": round(percentile(values, 0.50), 1),
        f"{name}_p95_ms": round(percentile(values, 0.95), 1),
        f"{name}_p99_ms": round(percentile(values, 0.99), 1),
    }


async def _measure(args: argparse.Namespace, desk: Desk, bootstrap: str) -> dict[str, float]:
    sagas = args.latency_sagas + args.burst
    pairs_count = sagas + args.requirements
    partners = await _partners(desk, bootstrap, 2 * pairs_count)
    sellers, buyers = partners[:pairs_count], partners[pairs_count:]
    await _credit(desk, buyers)
    watch = Watch(bootstrap)
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(headers=desk.headers, timeout=30, limits=limits) as client:
        answer = await client.post(
            f"{desk.url('availability')}/catalog/commodities", json=cotton_body()
        )
        answer.raise_for_status()
        await _until_counted(desk, "matching", "SELECT count(*) FROM catalog", 1)
        proposals = await _pairs(client, desk, sellers[:sagas], buyers[:sagas])
        await watch.start()
        try:
            light, steady = _split(proposals[: args.latency_sagas])
            figures = _spread(
                "light_saga", await _latency_run(client, desk, watch, light, args.light_rate)
            )
            figures |= await _hops(desk, "light_")
            figures |= _spread("saga", await _latency_run(client, desk, watch, steady, args.rate))
            figures |= await _hops(desk, "", exclude=frozenset(light))
            burst = proposals[args.latency_sagas :]
            figures |= await _burst_run(client, desk, watch, burst, args)
            rest = (sellers[sagas:], buyers[sagas:])
            matched = await _match_run(client, desk, watch, rest, args, first_place=sagas)
            figures |= _spread("match", matched)
        finally:
            await watch.stop()
    figures |= _spread(
        "raw_kafka_hop",
        await raw_kafka_hop(bootstrap, RAW_TOPIC, args.rate, args.latency_sagas, acknowledged=True),
    )
    figures["sagas_failed"] = len(watch.failed)
    return figures


def main() -> None:
    args = _arguments()
    with ExitStack() as stack:
        infrastructure = find_infrastructure(stack)
        logs = args.logs or Path(stack.enter_context(TemporaryDirectory()))
        logs.mkdir(parents=True, exist_ok=True)
        desk = _start(stack, infrastructure, logs)
        bootstrap = infrastructure.kafka_bootstrap_servers
        figures = asyncio.run(_measure(args, desk, bootstrap))
    report(figures, TARGETS)
    saved = save(
        "saga",
        figures,
        latency_sagas=args.latency_sagas,
        rate=args.rate,
        burst=args.burst,
        requirements=args.requirements,
    )
    print(f"saved {saved}")


if __name__ == "__main__":
    main()
