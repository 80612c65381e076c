"""A service's consumer groups, started by the runtime: inside `serve` or in `consume`.

Each group of the service's definition joins its topics through one broker; a message its
handlers give up on goes to the topic's dead-letter topic through the service's producer, and
the waiting keys behind it live in the service's database (see mandi_messaging.sequencing).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaProducer

from mandi_config import ServiceSettings
from mandi_messaging import (
    ConsumerGroup,
    ConsumerRuntime,
    DeadLetterPublisher,
    create_broker,
    ensure_topics,
    start_broker,
)

if TYPE_CHECKING:  # the service module starts consumers: only its types here
    from mandi_runtime.service import Resources, Wiring

__all__ = ["start_consumers"]


async def start_consumers(
    name: str,
    groups: Sequence[ConsumerGroup],
    resources: Resources[Any],
    wiring: Wiring[Any],
    producer: AIOKafkaProducer,
) -> None:
    """Joins every group to its topics until the resources' stack closes."""
    settings: ServiceSettings = resources.settings
    bootstrap = settings.kafka_bootstrap_servers
    await ensure_topics(bootstrap, sorted({topic for group in groups for topic in group.topics}))
    runtime = ConsumerRuntime(
        sessions=resources.sessions,
        dead_letters=DeadLetterPublisher(producer),
        unit_of_work=wiring.consumer_unit_of_work,
        dependencies=wiring.handler_dependencies,
    )
    broker = create_broker(bootstrap, client_id=f"mandi-{name}-consumers")
    for group in groups:
        broker.include_router(group.router(runtime))
    stack: AsyncExitStack = resources.stack
    await start_broker(broker, bootstrap)
    stack.push_async_callback(broker.stop)
