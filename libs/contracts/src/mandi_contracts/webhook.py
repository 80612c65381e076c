"""Events of the webhook service, on `mandi.webhook.events`.

They name an endpoint by its id, its partner and its URL's host alone: never a signing secret,
never the URL's path or query string (a receiver may carry a token there).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from mandi_contracts.registry import EVENTS
from mandi_messaging.registry import Event

__all__ = [
    "WEBHOOK_EVENTS",
    "WebhookDeliveryExhausted",
    "WebhookDeliverySucceeded",
    "WebhookEndpointCreated",
    "WebhookEndpointDisabled",
    "WebhookSecretRotated",
]


class _EndpointEvent(Event):
    tenant_id: UUID
    endpoint_id: UUID
    partner_id: UUID
    host: str
    version: int


@EVENTS.event("mandi.webhook_endpoint.created", 1)
class WebhookEndpointCreated(_EndpointEvent):
    """A partner's endpoint was registered; it receives the partner's events from now on."""


@EVENTS.event("mandi.webhook_endpoint.disabled", 1)
class WebhookEndpointDisabled(_EndpointEvent):
    """An endpoint receives nothing until it is enabled again; `cause` says who stopped it
    (`requested`: its partner's staff or the operator's)."""

    cause: str


@EVENTS.event("mandi.webhook_secret.rotated", 1)
class WebhookSecretRotated(_EndpointEvent):
    """An endpoint has a new signing secret; the ones before it sign beside it until
    `previous_until`."""

    secret_id: UUID
    previous_until: datetime


class _DeliveryEvent(Event):
    tenant_id: UUID
    delivery_id: UUID
    endpoint_id: UUID
    partner_id: UUID
    webhook_id: str  # the `webhook-id` the receiver saw
    public_type: str  # the public event type, e.g. `trade.confirmed`
    attempts: int


@EVENTS.event("mandi.webhook_delivery.succeeded", 1)
class WebhookDeliverySucceeded(_DeliveryEvent):
    """An endpoint acknowledged a delivery (a 2xx answer) at its `attempts`-th attempt."""

    status_code: int


@EVENTS.event("mandi.webhook_delivery.exhausted", 1)
class WebhookDeliveryExhausted(_DeliveryEvent):
    """A delivery failed every attempt (or its endpoint answered 410 Gone): it is a dead letter
    now, kept with its attempts until it is replayed or recovered."""

    reason: str


WEBHOOK_EVENTS: tuple[type[Event], ...] = (
    WebhookEndpointCreated,
    WebhookEndpointDisabled,
    WebhookSecretRotated,
    WebhookDeliverySucceeded,
    WebhookDeliveryExhausted,
)
