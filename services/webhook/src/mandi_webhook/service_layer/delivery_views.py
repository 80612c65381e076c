"""What the API shows of deliveries: each with its payload, and its attempt log on request."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_webhook.domain.deliveries import Attempt, Delivery, DeliveryStatus

__all__ = [
    "AttemptView",
    "DeliveryDetailView",
    "DeliveryView",
    "RecoveryView",
    "delivery_detail_view",
    "delivery_view",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeliveryView(_View):
    """One event on its way to one endpoint: `pending` (sent or waiting for its next attempt,
    due at `next_attempt_at`), `succeeded`, or `dead` (every attempt failed, or 410 Gone)."""

    id: UUID
    endpoint_id: UUID
    webhook_id: str  # the `webhook-id` header: the same on every attempt and replay
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AttemptView(_View):
    """One attempt: the receiver's status (null when none came: a timeout, a refused
    connection) or the error, how long it took, and the start of what the receiver answered."""

    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str
    response_excerpt: str


class DeliveryDetailView(DeliveryView):
    """A delivery with its attempt log, the first attempt first."""

    attempt_log: list[AttemptView]


class RecoveryView(_View):
    """How many dead deliveries were made due again."""

    recovered: int


def delivery_view(delivery: Delivery) -> DeliveryView:
    """The delivery as the API shows it."""
    return DeliveryView(**_fields(delivery))


def delivery_detail_view(delivery: Delivery, attempts: list[Attempt]) -> DeliveryDetailView:
    """The delivery and its attempt log."""
    log = [
        AttemptView(
            attempted_at=each.attempted_at,
            status_code=each.result.status_code,
            latency_ms=round(each.result.latency_ms, 3),
            error=each.result.error,
            response_excerpt=each.result.response_excerpt,
        )
        for each in attempts
    ]
    return DeliveryDetailView(**_fields(delivery), attempt_log=log)


def _fields(delivery: Delivery) -> dict[str, object]:
    pending = delivery.status is DeliveryStatus.PENDING
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "webhook_id": delivery.webhook_id,
        "event_type": delivery.event_type,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "last_error": delivery.last_error,
        "payload": json.loads(delivery.body),
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
    }
