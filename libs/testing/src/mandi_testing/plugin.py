"""Pytest fixtures for Mandi's tests, registered through the `pytest11` entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack

import pytest

from mandi_testing.infrastructure import (
    Infrastructure,
    InfrastructureUnavailable,
    find_infrastructure,
)
from mandi_testing.kafka import create_topics, delete_topics, topic_name
from mandi_testing.postgres import TestDatabase, fresh_database


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """PostgreSQL, Kafka and Redis for this run (see mandi_testing.infrastructure)."""
    with ExitStack() as stack:
        try:
            yield find_infrastructure(stack)
        except InfrastructureUnavailable as error:
            pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres_admin_url(infrastructure: Infrastructure) -> str:
    """A superuser's URL, to make databases and roles."""
    return infrastructure.postgres_admin_url


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(infrastructure: Infrastructure) -> str:
    """Kafka's bootstrap servers."""
    return infrastructure.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def redis_url(infrastructure: Infrastructure) -> str:
    """Redis's URL, with its password."""
    return infrastructure.redis_url


@pytest.fixture(scope="module")
def database(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """A database of this test module's own, dropped when the module ends; with the extensions
    the module names in `DATABASE_EXTENSIONS`, if any."""
    extensions = getattr(request.module, "DATABASE_EXTENSIONS", ())
    with fresh_database(postgres_admin_url, request.module.__name__, extensions) as created:
        yield created


TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def make_topic(
    kafka_bootstrap_servers: str, request: pytest.FixtureRequest
) -> AsyncIterator[TopicFactory]:
    """Creates topics for this test only: `await make_topic(partitions=3, name=None)`."""
    created: list[str] = []

    async def create(partitions: int = 3, name: str | None = None) -> str:
        topic = name or topic_name(request.node.name)
        await create_topics(kafka_bootstrap_servers, [topic], partitions)
        created.append(topic)
        return topic

    yield create
    if created:
        await delete_topics(kafka_bootstrap_servers, created)


@pytest.fixture
async def topic(make_topic: TopicFactory) -> str:
    """One topic of three partitions for this test only."""
    return await make_topic()
