"""The FastStream Kafka broker each service builds in its bootstrap.

Consumer groups attach to it as routers (`Consumers.router`): they ack manually, after the
database transaction has committed, and wait at most a few milliseconds for data, since every
hop of a saga would otherwise cost aiokafka's default half second.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from mandi_messaging.producer import start_or_fail

__all__ = ["FETCH_MAX_WAIT_MS", "create_broker", "start_broker"]

FETCH_MAX_WAIT_MS = 10


def create_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """A broker with an idempotent producer (acks=all) and FastStream's Prometheus metrics."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=client_id)],
    )


async def start_broker(broker: KafkaBroker, bootstrap_servers: str) -> None:
    """Starts the broker, or stops the process with one line when Kafka cannot be reached."""
    await start_or_fail(broker, bootstrap_servers)
