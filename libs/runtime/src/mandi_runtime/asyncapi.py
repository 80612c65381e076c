"""A service's AsyncAPI document, from its definition: the events its groups consume, and those
its outbox publishes on its topic and, to a saga, on its replies topic. Written under
docs/asyncapi/ and served at /asyncapi.json."""

from __future__ import annotations

from typing import Any

from mandi_messaging import asyncapi_document, replies_topic
from mandi_runtime.service import ServiceDefinition

__all__ = ["asyncapi_of"]


def asyncapi_of(definition: ServiceDefinition[Any, Any]) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the service, as JSON-ready data."""
    publishes = {}
    if definition.topic is not None and definition.publishes:
        publishes[definition.topic] = list(definition.publishes)
    if definition.replies:
        publishes[replies_topic(definition.name)] = list(definition.replies)
    return asyncapi_document(
        *definition.consumers, service=definition.name, version="1", publishes=publishes
    )
