"""Adds events to the outbox in the caller's transaction, so they commit with the state change.

An event's tenant is the unit of work's, given by the caller: never the ambient request
context, which a header may have set. Its correlation id and trace are the context's, which
every entry point starts (a request, a message, a command, a sweep); an event made where none
was started still correlates to itself.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from mandi_db import PreparedQuery, driver_of
from mandi_messaging.envelope import Envelope
from mandi_messaging.registry import Event, EventRegistry
from mandi_observability import current_context
from mandi_observability.tracing import current_traceparent

__all__ = ["INSERT_EVENT", "OutboxWriter", "outbox_row"]

# The advisory lock on (topic, key) is held until commit, so a second writer of the same key
# inserts only after the first has committed: per key, id order is commit order, and the relay,
# which publishes in id order, publishes each aggregate's events in the order they committed.
INSERT_EVENT = """
    INSERT INTO outbox (event_id, topic, message_key, event_type, source, occurred_at,
                        tenant_id, correlation_id, causation_id, traceparent, payload)
    SELECT :event_id, :topic, :message_key, :event_type, :source, :occurred_at,
           :tenant_id, :correlation_id, :causation_id, :traceparent, :payload
    FROM (SELECT pg_advisory_xact_lock(hashtextextended(:topic || '/' || :message_key, 0)))
         AS per_key_commit_order
"""
_INSERT = PreparedQuery(text(INSERT_EVENT))


class OutboxWriter:
    """Writes a service's events to its outbox; the ids of the context travel with them."""

    def __init__(
        self,
        session: AsyncSession,
        registry: EventRegistry,
        *,
        source: str,
        topic: str,
        tenant_id: UUID,
    ) -> None:
        self._session = session
        self._registry = registry
        self._source = source
        self._topic = topic
        self._tenant_id = str(tenant_id)

    async def add(self, event: Event, *, subject: str, topic: str | None = None) -> Envelope:
        """Queues one event about aggregate `subject` (the Kafka key) on the service's topic."""
        envelope = self._envelope(event, subject)
        in_transaction = await driver_of(self._session)  # the caller's transaction
        await _INSERT.fetch(in_transaction, outbox_row(envelope, topic or self._topic))
        return envelope

    def _envelope(self, event: Event, subject: str) -> Envelope:
        context = current_context()
        event_id = str(uuid.uuid4())
        return Envelope(
            id=event_id,
            source=self._source,
            type=self._registry.type_name(event),
            subject=subject,
            data=event.model_dump_json().encode(),
            tenant_id=self._tenant_id,
            correlation_id=context.correlation_id or event_id,
            causation_id=context.causation_id,
            traceparent=current_traceparent(),
        )


def outbox_row(envelope: Envelope, topic: str) -> dict[str, object]:
    """The parameters of INSERT_EVENT for one envelope."""
    return {
        "event_id": uuid.UUID(envelope.id),
        "topic": topic,
        "message_key": envelope.subject,
        "event_type": envelope.type,
        "source": envelope.source,
        "occurred_at": envelope.time,
        "tenant_id": envelope.tenant_id,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "traceparent": envelope.traceparent,
        "payload": envelope.data,
    }
