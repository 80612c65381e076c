"""What signs an endpoint's deliveries: the secrets the delivery of an event uses."""

from __future__ import annotations

from datetime import datetime

from mandi_webhook.domain.endpoints import Endpoint
from mandi_webhooks import WebhookSecret

__all__ = ["signing_secrets"]


def signing_secrets(endpoint: Endpoint, now: datetime) -> tuple[WebhookSecret, ...]:
    """The secrets that sign a delivery made now, newest first: the current one, and those a
    rotation left signing until their overlap ends. A receiver knowing any of them verifies."""
    return endpoint.signing_secrets(now)
