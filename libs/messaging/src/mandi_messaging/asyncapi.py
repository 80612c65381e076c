"""A service's AsyncAPI document: the events its consumer groups take and those it publishes.

FastStream writes the document from its subscribers and publishers. Here they are declared on a
broker that is never connected, so the document can be made without Kafka or a database: by a
service that serves it, or by a command that writes it under docs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Union

from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI

from mandi_messaging.batches import ConsumerGroup
from mandi_messaging.registry import Event

__all__ = ["asyncapi_document"]


def asyncapi_document(
    *consumers: ConsumerGroup,
    service: str,
    version: str,
    publishes: Mapping[str, Sequence[type[Event]]] | None = None,
    bootstrap_servers: str = "kafka:9092",
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document, as JSON-ready data, with every event's payload schema.

    `publishes` maps each topic the service writes (through its outbox) to the event models it
    writes there.
    """
    broker = KafkaBroker(bootstrap_servers)  # describes only: never started
    for group in consumers:
        router = KafkaRouter()
        group.subscribe(router)
        broker.include_router(router)
    for topic, models in (publishes or {}).items():
        broker.publisher(topic, title=f"{topic}:publish", schema=_one_of(models))
    specification = AsyncAPI(broker, title=f"mandi-{service}", version=version)
    document: dict[str, Any] = specification.to_specification().to_jsonable()
    return document


def _one_of(models: Sequence[type[Event]]) -> Any:
    if len(models) == 1:
        return models[0]
    return Union[tuple(models)]  # noqa: UP007 - built at run time from a list of models
