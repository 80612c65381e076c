"""Webhook benchmark: public events on Kafka through the webhook service to HTTP receivers on
127.0.0.1, each delivery signed as Standard Webhooks.

The service runs as `make dev` runs it: one `serve` process (HTTP API, the `webhook` consumer
group, the dispatcher and the outbox relay on one event loop; with --consume-apart the group runs
in a `consume` process of its own), on the local PostgreSQL and Kafka, in a database of its own,
with local endpoints allowed and a delivery timeout of --timeout seconds. Endpoints are
registered through its HTTP API, each for a partner of its own; events are PartnerApproved on
mandi.partners.events, published as the partners service's relay publishes them, each making
one `partner.status_changed` delivery to its partner's endpoint.

The receivers (mandi_testing.receivers) run in a child process, so that the benchmark's own
publishing and its raw client never hold up their event loop, and their CPU is counted apart;
each request's arrival is noted with time.perf_counter(), the system's monotonic clock, which
compares with the publisher's across processes. Every delivery received is verified afterwards
with its endpoint's secret. A delivery sent again (its first attempt timed out) counts once.

  burst     --burst events at once over --endpoints partners: deliveries per second from the
            first received to the last, how fast the consumer made them (rows, first to last),
            and each process's CPU ms per delivery (/proc utime+stime, from the first publish
            until the processes are idle again, so the results recorded and the delivery events
            relayed after the last send count): the service, PostgreSQL (all its processes),
            Kafka's JVM, the receivers, the benchmark.
  steady    --rate events per second for --seconds, round robin over the same endpoints:
            published (just before the producer's send) -> first attempt received, p50/p95/p99;
            and where that time went, from the service's own rows (`stage_*`): published -> row
            made by the consumer -> first attempt begun by the dispatcher -> received.
  dead      --healthy-rate events per second to one healthy endpoint for --dead-seconds
            (`healthy_p*_ms`), then again while another partner's endpoint, whose receiver takes
            each request and never answers, gets as many (`healthy_p*_with_dead_ms`); the dead
            endpoint's attempts, and when its breaker opened (the open-circuits gauge, polled).
            The rate is moderate for this service here (50/s each, well under its burst rate),
            so that the run shows the dead endpoint's effect rather than an overload's.
  raw       the baselines, in the same run: --raw-posts of the burst's bodies POSTed, signed,
            straight to the same receivers with one pooled httpx client, 256 in flight (where
            httpcore's pool cost shows), then 8 (where that client does best): POSTs/s
            and the client's CPU per POST; signed POSTs at --rate for half of --seconds (sent ->
            received); one Kafka hop (produce -> consumed) at --rate.

--setting NAME=VALUE starts the service with another setting (e.g. dispatch_concurrency=32), and
--consume-apart runs its consumer group in a process of its own, to try what helps; the saved
document names both. No other `webhook` consumer may run meanwhile (stop `make dev` first): the
group is shared.
Prints each figure, then each target beside its baselines; saves bench/results/webhooks.json.
Run: make bench-webhooks   (or: uv run python bench/webhooks.py --burst 2000 --seconds 5)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from benchlib import (
    cpu_seconds,
    listening_pids,
    paced,
    percentile,
    profiled,
    raw_kafka_hop,
    save,
    settled,
)
from commands import consumer_pid, skip_backlog

from mandi_contracts import EVENTS, PartnerApproved
from mandi_contracts.public import audience
from mandi_messaging import (
    create_producer,
    create_sequencing_tables,
    events_topic,
)
from mandi_security import GATEWAY_SECRET_HEADER, Principal, PrincipalType, gateway_headers
from mandi_testing import Infrastructure, as_tenant, find_infrastructure, fresh_database
from mandi_testing.messaging import envelope_of
from mandi_testing.platform import service_secrets
from mandi_testing.processes import (
    RunningService,
    free_port,
    running_consumers,
    running_service,
    service_environment,
)
from mandi_testing.receivers import Answer, LocalReceiver, local_receiver
from mandi_webhook.entrypoints.service import DEFINITION
from mandi_webhooks import WEBHOOK_ID, WebhookSecret, verify, webhook_headers

# Each target: its direction, its value, and the baselines printed beside it.
TARGETS = {
    "deliveries_per_s": (">=", 2000.0, ["raw_deliveries_per_s", "raw_deliveries_8_per_s"]),
    "first_attempt_p99_ms": ("<=", 50.0, ["raw_post_p99_ms", "raw_kafka_hop_p99_ms"]),
    "healthy_p99_with_dead_ratio": ("<=", 1.2, ["healthy_p99_ms", "healthy_p99_with_dead_ms"]),
}
GATEWAY = "bench-webhooks-gateway-secret"
PARTNER_EVENTS = events_topic("partners")
RAW_TOPIC = "mandi.bench.webhooks-hop"
_DISPATCH_CONCURRENCY = 256  # the raw burst's first run: many in flight, as a busy dispatcher has
_RAW_FEW = 8  # the raw burst's second run: where one httpx client does best on this machine
_RAW_STEADY_CONNECTIONS = 16
_CONTENT_TYPE = {"content-type": "application/json"}
_DEAD_STALL_SECONDS = 3600.0  # the dead receiver takes a request and never answers it
_OPEN_CIRCUITS = re.compile(r"^mandi_webhook_open_circuits (\S+)$", re.MULTILINE)
_WAIT_SECONDS = 180.0
_SEQUENCING_WARNING = (
    "NOTE: the webhook service's migrations do not create blocked_sequences and parked_messages,"
    " without which its consumer fails on every message; the bench created them to measure."
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=10_000, help="events (deliveries) at once")
    parser.add_argument("--endpoints", type=int, default=10, help="partners, one endpoint each")
    parser.add_argument("--rate", type=float, default=500.0, help="events per second, steadily")
    parser.add_argument("--seconds", type=float, default=20.0, help="of the steady run")
    parser.add_argument("--healthy-rate", type=float, default=50.0, help="events/s, each end")
    parser.add_argument("--dead-seconds", type=float, default=15.0, help="of each dead run")
    parser.add_argument("--timeout", type=float, default=2.0, help="the delivery timeout, s")
    parser.add_argument("--raw-posts", type=int, default=2000, help="POSTs of each raw burst")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a service setting (MANDI_WEBHOOK_<NAME>) other than its default, to try",
    )
    parser.add_argument(
        "--consume-apart",
        action="store_true",
        help="the consumer group in a `consume` process of its own (consumers_in_serve=false)",
    )
    parser.add_argument("--profile", type=Path, help="py-spy the service in the burst, here")
    parser.add_argument("--logs", type=Path, help="keep the service's logs here")
    return parser.parse_args()


@dataclass(frozen=True)
class Arrival:
    """One request a receiver got: on which port, its webhook id, headers, body, and when."""

    port: int
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class Hook:
    """A registered endpoint: its partner, its receiver's port and its signing secret."""

    partner: uuid.UUID
    port: int
    secret: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


class Receivers:
    """Receivers on 127.0.0.1 in a child process of their own, opened and read on request."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self._process = context.Process(target=_serve_receivers, args=(child,), daemon=True)
        self._process.start()
        self.pid = self._process.pid or 0

    def open(self, kinds: list[str]) -> list[int]:
        """A receiver of each kind (`healthy` answers 204 at once, `dead` never); their ports."""
        ports: list[int] = self._ask("open", kinds)
        return ports

    def take(self) -> list[Arrival]:
        """Every request received since the last take, which are forgotten."""
        return [Arrival(*fields) for fields in self._ask("take")]

    def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._ask("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()

    def _ask(self, command: str, argument: Any = None) -> Any:
        self._control.send((command, argument))
        return self._control.recv()


def _serve_receivers(control: Connection) -> None:
    """The child process: serves receivers until the benchmark says stop."""
    asyncio.run(_receivers(control))


_ANSWERS: dict[str, Callable[[int], Answer]] = {
    "healthy": lambda _n: Answer(),
    "dead": lambda _n: Answer(stall_seconds=_DEAD_STALL_SECONDS),
}


async def _receivers(control: Connection) -> None:
    asyncio.get_running_loop().set_exception_handler(_unless_cancelled)
    opened: list[LocalReceiver] = []
    async with AsyncExitStack() as stack:
        while True:
            command, argument = await asyncio.to_thread(control.recv)
            if command == "open":
                fresh = [await stack.enter_async_context(_receiver(kind)) for kind in argument]
                opened += fresh
                control.send([receiver.port for receiver in fresh])
            elif command == "take":
                control.send([fields for receiver in opened for fields in _taken(receiver)])
            else:
                control.send(None)
                return


def _unless_cancelled(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A dead receiver's stalled requests are cancelled at the end; asyncio's streams report it.
    if not isinstance(context.get("exception"), asyncio.CancelledError):
        loop.default_exception_handler(context)


def _receiver(kind: str) -> contextlib.AbstractAsyncContextManager[LocalReceiver]:
    return local_receiver(_ANSWERS[kind])


def _taken(receiver: LocalReceiver) -> list[tuple[Any, ...]]:
    taken, receiver.received[:] = list(receiver.received), []
    return [
        (receiver.port, each.headers.get(WEBHOOK_ID, ""), each.headers, each.body, each.at)
        for each in taken
    ]


@dataclass
class Desk:
    """The running service, its database and tenant, and the receivers."""

    service: RunningService
    owner_url: str  # the service's database, as its owner
    receivers: Receivers
    bootstrap: str
    tenant: uuid.UUID
    consume_apart: bool

    def __post_init__(self) -> None:
        operator = Principal(
            self.tenant, "bench.ops", PrincipalType.INTERNAL, None, frozenset({"*"})
        )
        self.headers = {**gateway_headers(operator), GATEWAY_SECRET_HEADER: GATEWAY}

    def processes(self) -> dict[str, list[int]]:
        """The pids whose CPU is counted, by name."""
        apart = {"webhook_consume": [consumer_pid("mandi_webhook")]} if self.consume_apart else {}
        return {
            "webhook": listening_pids(self.service.port),
            **apart,
            **_infrastructure_pids(),
            "receivers": [self.receivers.pid],
            "bench": [os.getpid()],
        }

    async def register(self, kinds: list[str]) -> list[Hook]:
        """An endpoint on a fresh receiver of each kind, for a partner of its own each."""
        ports = self.receivers.open(kinds)
        async with httpx.AsyncClient(headers=self.headers, timeout=30) as client:
            return [await self._register(client, port) for port in ports]

    async def _register(self, client: httpx.AsyncClient, port: int) -> Hook:
        partner = uuid.uuid4()
        body = {
            "url": f"http://127.0.0.1:{port}/hooks",
            "partner_id": str(partner),
            "event_types": [],
            "rate_limit": 10_000,
        }
        answer = await client.post(f"{self.service.url}/endpoints", json=body)
        if answer.status_code != 201:  # noqa: PLR2004 - Created
            raise RuntimeError(f"registering answered {answer.status_code}: {answer.text}")
        return Hook(partner, port, answer.json()["secret"])

    async def collect(self, expected: Collection[str], what: str) -> list[Arrival]:
        """Every request received (to any receiver) until each expected webhook id has."""
        arrivals: list[Arrival] = []
        missing, deadline = set(expected), time.monotonic() + _WAIT_SECONDS
        while missing:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: {len(missing)} not received in {_WAIT_SECONDS} s")
            await asyncio.sleep(0.05)
            fresh = self.receivers.take()
            arrivals += fresh
            missing.difference_update(arrival.webhook_id for arrival in fresh)
        return arrivals


class Publisher:
    """PartnerApproved events on mandi.partners.events; when each delivery's event was sent."""

    def __init__(self, producer: AIOKafkaProducer, tenant: uuid.UUID) -> None:
        self._producer, self._tenant = producer, tenant
        self._pending: list[asyncio.Future[Any]] = []
        self._sent: dict[str, float] = {}  # webhook id -> perf_counter() just before the send
        self.partner_of: dict[str, uuid.UUID] = {}  # webhook id -> the partner it is for

    async def approve(self, partner: uuid.UUID) -> None:
        """Publishes the partner's approval, as the partners service's relay would."""
        ids = {"tenant_id": self._tenant, "partner_id": partner}
        event = PartnerApproved(**ids, version=2, approved_by="bench")
        envelope = envelope_of(event, subject=str(partner), registry=EVENTS, tenant_id=self._tenant)
        moment = time.perf_counter()
        for delivery in audience(event, envelope.id):
            self._sent[delivery.webhook_id] = moment
            self.partner_of[delivery.webhook_id] = delivery.partner_id
        sending = await self._producer.send(
            PARTNER_EVENTS,
            value=envelope.data,
            key=str(partner).encode(),
            headers=envelope.kafka_headers(),
        )
        self._pending.append(sending)

    async def sent(self) -> dict[str, float]:
        """Once Kafka has acknowledged them, the send times noted so far, forgotten here."""
        await asyncio.gather(*self._pending)
        self._pending.clear()
        sent, self._sent = self._sent, {}
        return sent


def _start(
    stack: ExitStack, infrastructure: Infrastructure, logs: Path, args: argparse.Namespace
) -> tuple[RunningService, str, bool]:
    """The service, serving on a fresh database; the database's owner URL; and whether the
    bench had to add the consumer's sequencing tables (see `_sequencing_tables_added`)."""
    database = stack.enter_context(
        fresh_database(infrastructure.postgres_admin_url, "bench_webhooks")
    )
    bootstrap = infrastructure.kafka_bootstrap_servers
    for consumers in DEFINITION.consumers:
        asyncio.run(skip_backlog(bootstrap, consumers.group, list(consumers.topics)))
    port = free_port()
    environment = {
        **service_environment("webhook", infrastructure, database, port=port),
        **service_secrets("webhook", {"gateway.secret": GATEWAY}),
        "MANDI_WEBHOOK_ALLOW_LOCAL_ENDPOINTS": "true",
        "MANDI_WEBHOOK_DELIVERY_TIMEOUT_SECONDS": str(args.timeout),
        **_settings(args.setting),
    }
    if args.consume_apart:
        environment["MANDI_WEBHOOK_CONSUMERS_IN_SERVE"] = "false"
    added = _sequencing_tables_added(environment, database.owner_url)
    service = stack.enter_context(running_service("webhook", environment, port, logs))
    if args.consume_apart:
        stack.enter_context(running_consumers("webhook", environment, logs))
    return service, database.owner_url, added


def _settings(given: list[str]) -> dict[str, str]:
    settings = {}
    for each in given:
        name, _, value = each.partition("=")
        settings[f"MANDI_WEBHOOK_{name.upper()}"] = value
    return settings


def _sequencing_tables_added(environment: dict[str, str], owner_url: str) -> bool:
    """Migrates the database; if the service's migrations did not create the consumers'
    sequencing tables (blocked_sequences, parked_messages), which every consumed message is
    checked against, creates them as mandi_messaging says, so that events can be consumed at
    all. True if it had to: the run then says so."""
    subprocess.run(
        [sys.executable, "-m", "mandi_webhook", "migrate"],
        env={**os.environ, **environment},
        check=True,
        capture_output=True,
    )

    async def add() -> bool:
        connection = await asyncpg.connect(owner_url)
        try:
            if await connection.fetchval("SELECT to_regclass('blocked_sequences')") is not None:
                return False
            for statement in create_sequencing_tables():
                await connection.execute(statement)
            return True
        finally:
            await connection.close()

    return asyncio.run(add())


def _first_arrivals(arrivals: Iterable[Arrival], wanted: Collection[str]) -> dict[str, float]:
    """When each wanted webhook id first arrived (one sent again arrives again)."""
    first: dict[str, float] = {}
    for arrival in arrivals:
        if arrival.webhook_id in wanted:
            first[arrival.webhook_id] = min(arrival.at, first.get(arrival.webhook_id, arrival.at))
    return first


def _latencies(sent: dict[str, float], arrivals: Iterable[Arrival]) -> list[float]:
    """Sent -> first received, in ms, of every delivery sent."""
    first = _first_arrivals(arrivals, sent)
    return [1000 * (first[each] - moment) for each, moment in sent.items()]


def _per_second(moments: Collection[float]) -> float:
    return round(len(moments) / (max(moments) - min(moments)), 1)


def _spread(name: str, values: list[float], qualifier: str = "") -> dict[str, float]:
    return {
        f"{name}_p50{qualifier}_ms": round(percentile(values, 0.50), 1),
        f"{name}_p95{qualifier}_ms": round(percentile(values, 0.95), 1),
        f"{name}_p99{qualifier}_ms": round(percentile(values, 0.99), 1),
    }


def _unverified(arrivals: Iterable[Arrival], hooks: Iterable[Hook]) -> int:
    """How many deliveries fail Standard Webhooks verification with their endpoint's secret."""
    secrets = {hook.port: [WebhookSecret.parse(hook.secret)] for hook in hooks}
    failed = 0
    for arrival in arrivals:
        try:
            verify(arrival.headers, arrival.body, secrets[arrival.port])
        except Exception:  # noqa: BLE001 - any refusal is a failed delivery here
            failed += 1
    return failed


async def _warm_up(desk: Desk, publisher: Publisher, hooks: list[Hook]) -> None:
    """One delivery to each endpoint: the consumer has joined, the dispatcher knows the tenant
    and the endpoints, connections are open."""
    for hook in hooks:
        await publisher.approve(hook.partner)
    await desk.collect(await publisher.sent(), "warm-up")


# How fast the consumer made the burst's deliveries: rows, first made to last.
_MADE = """
    SELECT count(*) AS count, extract(epoch FROM max(created_at) - min(created_at)) AS seconds
    FROM deliveries WHERE webhook_id = ANY($1::text[])
"""


async def _burst(
    desk: Desk, publisher: Publisher, hooks: list[Hook], args: argparse.Namespace
) -> tuple[dict[str, float], list[Arrival]]:
    """Every event at once: deliveries/s first to last received, CPU per delivery; and the
    arrivals (whose bodies the raw baseline sends again)."""
    processes = desk.processes()
    services = _services(processes)
    before = _cpu(processes)
    with profiled(services, "burst", args.profile):
        for index in range(args.burst):
            await publisher.approve(hooks[index % len(hooks)].partner)
        sent = await publisher.sent()
        arrivals = await desk.collect(sent, "burst")
        await settled({**services, "postgres": processes["postgres"]})
    spent = _cpu_spent(before, _cpu(processes))
    made = await as_tenant(desk.owner_url, desk.tenant, lambda db: db.fetch(_MADE, list(sent)))
    first = _first_arrivals(arrivals, sent)
    figures: dict[str, float] = {
        "deliveries_per_s": _per_second(first.values()),
        "burst_deliveries": len(first),
        "burst_sent_again": sum(1 for each in arrivals if each.webhook_id in sent) - len(first),
        "burst_fanned_out_per_s": round(made[0]["count"] / float(made[0]["seconds"]), 1),
    }
    for name, seconds in spent.items():
        figures[f"{name}_cpu_ms_per_delivery"] = round(1000 * seconds / len(first), 3)
    return figures, arrivals


async def _steady(
    desk: Desk, publisher: Publisher, partners: list[uuid.UUID], rate: float, seconds: float
) -> tuple[dict[str, float], list[Arrival]]:
    """Events at `rate` for `seconds`, round robin over `partners`: each one's send time, and
    the arrivals until every one has been received."""
    count = round(rate * seconds)
    await paced(rate, count, lambda index: publisher.approve(partners[index % len(partners)]))
    sent = await publisher.sent()
    return sent, await desk.collect(sent, "steady run")


_STAGES = """
    SELECT d.webhook_id, extract(epoch FROM d.created_at) AS created,
           extract(epoch FROM min(a.attempted_at)) AS attempted
    FROM deliveries AS d JOIN delivery_attempts AS a ON a.delivery_id = d.id
    WHERE d.webhook_id = ANY($1::text[])
    GROUP BY d.webhook_id, d.created_at
"""


async def _stages(desk: Desk, sent: dict[str, float], arrivals: list[Arrival]) -> dict[str, float]:
    """Where each delivery's time went, from the service's own rows: published -> its row made
    by the consumer (`consumed`), -> its first attempt begun (`claimed`), -> received (`sent`).
    The rows' times are the system's wall clock, taken here as perf_counter's."""
    rows = await as_tenant(desk.owner_url, desk.tenant, lambda db: db.fetch(_STAGES, list(sent)))
    wall = time.time() - time.perf_counter()
    first = _first_arrivals(arrivals, sent)
    stages: dict[str, list[float]] = {"consumed": [], "claimed": [], "sent": []}
    for row in rows:
        webhook_id = row["webhook_id"]
        created, attempted = float(row["created"]) - wall, float(row["attempted"]) - wall
        stages["consumed"].append(1000 * (created - sent[webhook_id]))
        stages["claimed"].append(1000 * (attempted - created))
        stages["sent"].append(1000 * (first[webhook_id] - attempted))
    figures: dict[str, float] = {}
    for name, values in stages.items():
        figures |= _spread(f"stage_{name}", values)
    return figures


async def _dead_run(
    desk: Desk, publisher: Publisher, healthy: Hook, dead: Hook, args: argparse.Namespace
) -> dict[str, float]:
    """The healthy endpoint's latency alone, then beside a dead one getting as many events."""
    rate, seconds = args.healthy_rate, args.dead_seconds
    alone, arrivals = await _steady(desk, publisher, [healthy.partner], rate, seconds)
    figures = _spread("healthy", _latencies(alone, arrivals))
    await settled(_services(desk.processes()))
    watch = asyncio.create_task(_breaker_opened(desk))
    started = time.perf_counter()
    both = [healthy.partner, dead.partner]
    await paced(2 * rate, 2 * round(rate * seconds), lambda i: publisher.approve(both[i % 2]))
    sent = await publisher.sent()
    partner_of = publisher.partner_of
    beside = {each: at for each, at in sent.items() if partner_of[each] == healthy.partner}
    arrivals = await desk.collect(beside, "healthy beside the dead")
    watch.cancel()
    opened = await asyncio.gather(watch, return_exceptions=True)
    figures |= _spread("healthy", _latencies(beside, arrivals), "_with_dead")
    ratio = figures["healthy_p99_with_dead_ms"] / figures["healthy_p99_ms"]
    figures["healthy_p99_with_dead_ratio"] = round(ratio, 2)
    figures["dead_events"] = len(sent) - len(beside)
    figures["dead_attempts"] = sum(1 for each in arrivals if each.port == dead.port)
    if isinstance(opened[0], float):
        figures["dead_breaker_opened_after_s"] = round(opened[0] - started, 2)
    return figures


async def _breaker_opened(desk: Desk) -> float:
    """When the service first reported an open circuit (polled every 50 ms)."""
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            scrape = (await client.get(f"{desk.service.url}/metrics")).text
            found = _OPEN_CIRCUITS.search(scrape)
            if found and float(found.group(1)) > 0:
                return time.perf_counter()
            await asyncio.sleep(0.05)


def _services(processes: dict[str, list[int]]) -> dict[str, list[int]]:
    """The service's own processes (`webhook`, and `webhook_consume` if apart)."""
    return {name: pids for name, pids in processes.items() if name.startswith("webhook")}


def _signed(hook: Hook, webhook_id: str, body: bytes) -> dict[str, str]:
    secret = WebhookSecret.parse(hook.secret)
    return {**_CONTENT_TYPE, **webhook_headers(webhook_id, int(time.time()), body, [secret])}


async def _raw_post(client: httpx.AsyncClient, hook: Hook, webhook_id: str, body: bytes) -> None:
    answer = await client.post(hook.url, content=body, headers=_signed(hook, webhook_id, body))
    if answer.status_code != 204:  # noqa: PLR2004 - the receiver's No Content
        raise RuntimeError(f"the receiver answered {answer.status_code}")


def _raw_client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(limits=limits, timeout=60)


async def _raw_burst(
    desk: Desk, hooks: list[Hook], bodies: list[tuple[int, bytes]], in_flight: int, name: str
) -> dict[str, float]:
    """The bodies POSTed straight to their receivers, `in_flight` at once, each on a connection
    of its own: POSTs/s first to last received, and the client's CPU per POST."""
    by_port = {hook.port: hook for hook in hooks}
    posts = iter(enumerate(bodies))
    expected = {f"msg_{name}_{index}" for index in range(len(bodies))}
    before = cpu_seconds(os.getpid())

    async def sender(client: httpx.AsyncClient) -> None:
        for index, (port, body) in posts:
            await _raw_post(client, by_port[port], f"msg_{name}_{index}", body)

    async with _raw_client(in_flight) as client:
        await asyncio.gather(*(sender(client) for _ in range(in_flight)))
    spent = cpu_seconds(os.getpid()) - before
    first = _first_arrivals(await desk.collect(expected, name), expected)
    return {
        f"{name}_per_s": _per_second(first.values()),
        f"{name}_client_cpu_ms": round(1000 * spent / len(bodies), 3),
    }


async def _raw_steady(
    desk: Desk, hooks: list[Hook], body: bytes, rate: float, seconds: float
) -> list[float]:
    """Signed POSTs at `rate` for `seconds`, round robin over `hooks`; sent -> received, ms."""
    sent: dict[str, float] = {}
    posting: list[asyncio.Task[None]] = []
    async with _raw_client(_RAW_STEADY_CONNECTIONS) as client:

        async def post(index: int) -> None:
            webhook_id = f"msg_raw_steady_{index}"
            sent[webhook_id] = time.perf_counter()
            hook = hooks[index % len(hooks)]
            posting.append(asyncio.create_task(_raw_post(client, hook, webhook_id, body)))

        await paced(rate, round(rate * seconds), post)
        await asyncio.gather(*posting)
    return _latencies(sent, await desk.collect(sent, "raw steady run"))


def _cpu(processes: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """Each process's CPU seconds so far; one that has ended is left out (a database connection
    closed meanwhile: its share is lost, so PostgreSQL's figure is a floor)."""
    seconds: dict[str, dict[int, float]] = {}
    for name, pids in processes.items():
        seconds[name] = {}
        for pid in pids:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                seconds[name][pid] = cpu_seconds(pid)
    return seconds


def _cpu_spent(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    return {
        name: sum(after[name][pid] - then[pid] for pid in after[name].keys() & then.keys())
        for name, then in before.items()
    }


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


async def _measure(args: argparse.Namespace, desk: Desk) -> dict[str, float]:
    hooks = await desk.register(["healthy"] * args.endpoints)
    healthy, dead = await desk.register(["healthy", "dead"])
    producer = create_producer(desk.bootstrap, client_id="bench-webhooks")
    await producer.start()
    try:
        publisher = Publisher(producer, desk.tenant)
        await _warm_up(desk, publisher, [*hooks, healthy])
        figures, burst = await _burst(desk, publisher, hooks, args)
        await settled(_services(desk.processes()))
        partners = [hook.partner for hook in hooks]
        sent, steady = await _steady(desk, publisher, partners, args.rate, args.seconds)
        figures |= _spread("first_attempt", _latencies(sent, steady))
        figures |= await _stages(desk, sent, steady)
        figures["steady_sent_again"] = len(steady) - len(_first_arrivals(steady, sent))
        figures["deliveries_unverified"] = _unverified([*burst, *steady], hooks)
        await settled(_services(desk.processes()))
        figures |= await _dead_run(desk, publisher, healthy, dead, args)
    finally:
        await producer.stop()
    figures |= await _raw_baselines(args, desk, hooks, burst)
    return figures


async def _raw_baselines(
    args: argparse.Namespace, desk: Desk, hooks: list[Hook], burst: list[Arrival]
) -> dict[str, float]:
    ours = {hook.port for hook in hooks}
    bodies = [(each.port, each.body) for each in burst if each.port in ours][: args.raw_posts]
    figures = await _raw_burst(desk, hooks, bodies, _DISPATCH_CONCURRENCY, "raw_deliveries")
    figures |= await _raw_burst(desk, hooks, bodies, _RAW_FEW, f"raw_deliveries_{_RAW_FEW}")
    half = args.seconds / 2
    figures |= _spread("raw_post", await _raw_steady(desk, hooks, bodies[0][1], args.rate, half))
    figures |= _spread(
        "raw_kafka_hop",
        await raw_kafka_hop(
            desk.bootstrap, RAW_TOPIC, args.rate, round(args.rate * half), acknowledged=False
        ),
    )
    return figures


def _print(figures: dict[str, float]) -> None:
    """Every figure, then each target with its figure, verdict and baselines beside it."""
    for name, value in figures.items():
        print(f"  {name:<40} {value}")
    print("Targets, beside their baselines:")
    for name, (direction, target, baselines) in TARGETS.items():
        found = figures.get(name)
        met = found is not None and (found >= target if direction == ">=" else found <= target)
        beside = ", ".join(f"{each} {figures.get(each)}" for each in baselines)
        print(
            f"  {name:<28} {found!s:>9}  target {direction} {target:<6g} "
            f"{'met' if met else 'MISSED':<6}  beside {beside}"
        )


def main() -> None:
    args = _arguments()
    receivers = Receivers()  # started before any event loop or connection of this process
    try:
        with ExitStack() as stack:
            infrastructure = find_infrastructure(stack)
            logs = args.logs or Path(stack.enter_context(TemporaryDirectory()))
            logs.mkdir(parents=True, exist_ok=True)
            service, owner_url, added = _start(stack, infrastructure, logs, args)
            if added:
                print(_SEQUENCING_WARNING)
            bootstrap = infrastructure.kafka_bootstrap_servers
            tenant = uuid.uuid4()
            desk = Desk(service, owner_url, receivers, bootstrap, tenant, args.consume_apart)
            figures = asyncio.run(_measure(args, desk))
    finally:
        receivers.stop()
    _print(figures)
    extra = {key: value for key, value in vars(args).items() if key not in {"logs", "profile"}}
    extra["sequencing_tables_added_by_bench"] = added
    print(f"saved {save('webhooks', figures, **extra)}")


if __name__ == "__main__":
    main()
