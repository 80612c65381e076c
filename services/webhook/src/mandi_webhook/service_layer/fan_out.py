"""Fan-out: an internal event becomes deliveries, one per endpoint of each partner it concerns.

Who hears what is `mandi_contracts.public.audience`'s to say: each partner the event concerns
gets its own public payload, never another partner's. Here each of those goes to the partner's
enabled endpoints whose filters let its type through. The deliveries are rows due at once, in
the consumer's transaction; the dispatcher sends them, never the consumer.
"""

from __future__ import annotations

from datetime import datetime

from mandi_contracts.public import audience
from mandi_messaging.registry import Event
from mandi_observability import current_context
from mandi_observability.tracing import current_traceparent
from mandi_webhook.domain.deliveries import Delivery, message_body
from mandi_webhook.service_layer.unit_of_work import WebhookUnitOfWork

__all__ = ["fan_out"]


async def fan_out(
    uow: WebhookUnitOfWork, event: Event, event_id: str, occurred_at: datetime, now: datetime
) -> int:
    """Queues the event's deliveries to every endpoint that receives them; how many."""
    context = {"correlation_id": current_context().correlation_id}
    traceparent = current_traceparent()
    made: list[Delivery] = []
    for public in audience(event, event_id):
        receivers = await uow.endpoints.receiving(public.partner_id, public.type)
        if not receivers:
            continue
        body = message_body(public, occurred_at)
        made += [
            Delivery.new(endpoint_id, public, body, now, **context, traceparent=traceparent)
            for endpoint_id in receivers
        ]
    await uow.deliveries.add(made)
    return len(made)
