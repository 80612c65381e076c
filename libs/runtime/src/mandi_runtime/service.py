"""A service's life, owned by the runtime: what it is made of, how it starts, runs and stops.

A service describes itself once (a `ServiceDefinition`: its name, settings, routers, migrations,
events topic, commands) and writes one `build()` that turns the runtime's `Resources` (settings,
database, an exit stack for its own clients) into its `Wiring` (the use cases' dependencies and
what runs beside them). The runtime does the rest, the same way for every service:

- the database (its primary, and a read replica when it has one), the Kafka producer and the
  outbox relay, every client the service registers on the exit stack, all closed in reverse
  order at the end;
- the principal resolver (principal headers only with the gateway's secret);
- periodic jobs, run by one leader per cluster;
- the HTTP app's lifespan and readiness, the `serve`/`migrate` commands and the service's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any, Generic, TypeVar
from uuid import UUID

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.types import ASGIApp

from mandi_config import ServiceSettings
from mandi_db import (
    ReadSessions,
    ServiceDatabase,
    TenantAwareSession,
    Transaction,
    service_database,
)
from mandi_messaging import (
    ConsumerGroup,
    Event,
    OutboxRelay,
    create_producer,
    ensure_topics,
    start_producer,
)
from mandi_runtime.consuming import start_consumers
from mandi_runtime.jobs import run_periodically
from mandi_runtime.leadership import LeaderLock
from mandi_runtime.unavailable import Unavailable
from mandi_security import PrincipalResolver
from mandi_security.resolver import TokenVerifier

__all__ = [
    "Command",
    "PeriodicJob",
    "Resources",
    "RunningService",
    "ServiceDefinition",
    "Wiring",
    "running",
    "settle_the_heap",
]

S = TypeVar("S", bound=ServiceSettings)
D = TypeVar("D")


@dataclass(frozen=True)
class PeriodicJob:
    """Work done every period by the cluster's leader; `run` says how much it did."""

    name: str
    every_seconds: float
    run: Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Wiring(Generic[D]):
    """What a service's `build()` makes: its use cases' dependencies and what runs beside them.

    `on_start` runs once before the service serves (e.g. loading signing keys); `loops` run in
    every replica for as long as it lives; `jobs` run in the leader only; `readiness` checks
    the service's own dependencies beyond its database; `token_verifier` verifies a bearer
    token on a call that did not come through the gateway (none: such calls are refused).
    """

    deps: D
    jobs: Sequence[PeriodicJob] = ()
    loops: Sequence[Callable[[], Awaitable[None]]] = ()
    readiness: Sequence[Callable[[], Awaitable[object]]] = ()
    on_start: Callable[[], Awaitable[None]] | None = None
    token_verifier: TokenVerifier | None = None
    # What the service's event handlers get: `uow` opened by this factory for the envelope's
    # tenant (by default a plain unit of work), and any other parameter by its name from here.
    consumer_unit_of_work: Callable[[UUID], AbstractAsyncContextManager[Transaction]] | None = None
    handler_dependencies: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Resources(Generic[S]):
    """What the runtime has made for a service before its own adapters.

    `sessions` open transactions on the primary: every unit of work that writes, and reads that
    must see the caller's own writes. `reads` may be served by the read replica (its settings'
    `read_database_url`), falling back to the primary: lists and reports that may be a moment
    stale. Both are the same primary when there is no replica.
    """

    settings: S
    database: ServiceDatabase
    stack: AsyncExitStack

    @property
    def sessions(self) -> async_sessionmaker[TenantAwareSession]:
        """Sessions on the primary."""
        return self.database.sessions

    @property
    def reads(self) -> ReadSessions:
        """Read-only sessions, on the replica while it serves."""
        return self.database.reads

    def close_at_the_end(self, close: Callable[[], Awaitable[Any]]) -> None:
        """Registers a client's closing, done in reverse order when the service stops."""
        self.stack.push_async_callback(close)


@dataclass(frozen=True)
class Command(Generic[S, D]):
    """A command of the service's own (`python -m mandi_<svc> <name>`), run as one operation."""

    name: str
    help: str
    run: Callable[[RunningService[S, D], Any], Awaitable[None]]
    arguments: Callable[[Any], None] = lambda _parser: None


@dataclass(frozen=True)
class ServiceDefinition(Generic[S, D]):
    """Everything the runtime needs to know about a service, said once."""

    name: str
    settings: type[S]
    build: Callable[[Resources[S]], Wiring[D]]
    routers: Sequence[APIRouter]
    migrations: Traversable
    topic: str | None = None  # the events topic its outbox publishes on
    commands: Sequence[Command[S, D]] = ()
    unavailable: Sequence[Unavailable] = ()  # errors of its own dependencies, answered 503
    # What its OpenAPI document must add, knowing the deployment's settings.
    amendments: Sequence[Callable[[dict[str, Any], S], None]] = ()
    # ASGI wrappers outside every middleware, for an endpoint too hot for them (the gateway's
    # authorize): each takes the app and the service's name.
    fast_paths: Sequence[Callable[[ASGIApp, str], ASGIApp]] = ()
    consumers: Sequence[ConsumerGroup] = ()  # its consumer groups, each with its handlers
    publishes: Sequence[type[Event]] = ()  # the events its outbox writes (AsyncAPI)
    # The replies it sends a saga on mandi.<name>.replies, through its outbox (AsyncAPI).
    replies: Sequence[type[Event]] = ()

    @property
    def app_factory(self) -> str:
        """Where `serve` finds the app: `mandi_<svc>.entrypoints.http.app:create_app`."""
        return f"mandi_{self.name.replace('-', '_')}.entrypoints.http.app:create_app"


@dataclass
class RunningService(Generic[S, D]):
    """A service as it runs: what routes and commands reach through `app.state.service`."""

    definition: ServiceDefinition[S, D]
    settings: S
    database: ServiceDatabase
    wiring: Wiring[D]
    resolver: PrincipalResolver
    leader: LeaderLock
    producer: AIOKafkaProducer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def deps(self) -> D:
        """The use cases' dependencies."""
        return self.wiring.deps

    @property
    def engine(self) -> AsyncEngine:
        """The primary's engine."""
        return self.database.engine

    async def check_readiness(self) -> None:
        """Raises unless the database and the service's own dependencies answer."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        for check in self.wiring.readiness:
            await check()


def _password(settings: ServiceSettings) -> str | None:
    secret = settings.database_password
    return secret.get_secret_value() if secret else None


@asynccontextmanager
async def running(
    definition: ServiceDefinition[S, D],
    settings: S,
    *,
    background: bool = True,
    consume: bool | None = None,
) -> AsyncIterator[RunningService[S, D]]:
    """The service built and started.

    `background` starts its relay, loops and jobs; `consume` its consumer groups (by default
    with the background, where the settings keep consumers in `serve`).
    """
    if consume is None:
        consume = background and settings.consumers_in_serve
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(_database(definition, settings))
        resources = Resources(settings, database, stack)
        wiring = definition.build(resources)
        if wiring.on_start is not None:
            await wiring.on_start()
        service = _running_service(definition, settings, database, wiring)
        stack.push_async_callback(service.leader.close)
        if background or (consume and definition.consumers):
            service.producer = await _producer(definition.name, settings, stack)
        if consume and definition.consumers:
            await start_consumers(
                definition.name, definition.consumers, resources, wiring, service.producer
            )
        if background:
            await _start_background(service, stack)
        if background or consume:
            settle_the_heap()
        yield service


_YOUNG_OBJECTS_PER_COLLECTION = 20_000


def settle_the_heap() -> None:
    """Once a serving process has started: what starting made (modules, models, clients) lives
    as long as the process, so it is put out of the collector's sight (after collecting what is
    garbage already), and a collection comes every 20000 new objects, not 700: a poll or a burst
    of requests makes thousands at once, which were scanned again and again (3 µs of an audited
    event's 30)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_OBJECTS_PER_COLLECTION, *gc.get_threshold()[1:])


def _database(definition: ServiceDefinition[S, D], settings: S) -> ServiceDatabase:
    return service_database(
        settings.database_url,
        password=_password(settings),
        service=definition.name,
        read_url=settings.read_database_url,
        max_lag_seconds=settings.read_database_max_lag_seconds,
        check_every_seconds=settings.read_database_check_seconds,
    )


def _running_service(
    definition: ServiceDefinition[S, D], settings: S, database: ServiceDatabase, wiring: Wiring[D]
) -> RunningService[S, D]:
    resolver = PrincipalResolver(
        gateway_secret=settings.secret("gateway_secret"), verifier=wiring.token_verifier
    )
    leader = LeaderLock(settings.database_url, password=_password(settings))
    return RunningService(definition, settings, database, wiring, resolver, leader)


async def _start_background(service: RunningService[Any, Any], stack: AsyncExitStack) -> None:
    work: list[Awaitable[None]] = []
    topic, producer = service.definition.topic, service.producer
    if topic is not None and producer is not None:
        work.append(await _outbox_relay(service, topic, producer))
    work += [loop() for loop in service.wiring.loops]
    work += [
        run_periodically(job.name, job.every_seconds, job.run, service.leader)
        for job in service.wiring.jobs
    ]
    service.tasks = [asyncio.create_task(_as_coroutine(each)) for each in work]
    stack.push_async_callback(_cancel, service.tasks)  # first to run when the service stops


async def _producer(
    name: str, settings: ServiceSettings, stack: AsyncExitStack
) -> AIOKafkaProducer:
    """The service's one producer: its outbox relay's and its dead letters'."""
    producer = create_producer(settings.kafka_bootstrap_servers, client_id=f"mandi-{name}")
    await start_producer(producer, settings.kafka_bootstrap_servers)
    stack.push_async_callback(producer.stop)
    return producer


async def _outbox_relay(
    service: RunningService[Any, Any], topic: str, producer: AIOKafkaProducer
) -> Awaitable[None]:
    settings = service.settings
    await ensure_topics(settings.kafka_bootstrap_servers, [topic])
    relay = OutboxRelay(
        dsn=settings.database_url,
        password=_password(settings),
        producer=producer,
        service=service.definition.name,
    )
    return relay.run()


async def _as_coroutine(work: Awaitable[None]) -> None:
    await work


async def _cancel(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
