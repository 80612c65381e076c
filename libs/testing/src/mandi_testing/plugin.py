"""Pytest fixtures for Mandi's tests, registered through the `pytest11` entry point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from mandi_testing.infrastructure import Infrastructure, InfrastructureUnavailable, find_infrastructure
from mandi_testing.kafka import temporary_topics, topic_name
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
    """A database of this test module's own, dropped when the module ends."""
    with fresh_database(postgres_admin_url, request.module.__name__) as created:
        yield created


TopicFactory = Callable[..., str]


@pytest.fixture
def make_topic(kafka_bootstrap_servers: str, request: pytest.FixtureRequest) -> Iterator[TopicFactory]:
    """Creates topics for this test only: `make_topic(partitions=3)`; deleted afterwards."""
    with ExitStack() as stack:

        def create(partitions: int = 3, suffix: str = "") -> str:
            name = topic_name(request.node.name + suffix)
            stack.enter_context(temporary_topics(kafka_bootstrap_servers, [name], partitions))
            return name

        yield create


@pytest.fixture
def topic(make_topic: TopicFactory) -> str:
    """One topic of three partitions for this test only."""
    return make_topic()
