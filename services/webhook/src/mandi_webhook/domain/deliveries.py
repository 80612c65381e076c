"""Deliveries: one public event on its way to one endpoint, and what each attempt decides.

A delivery's body is made once, when the event is fanned out, and never changes: every attempt
and every replay sends the same bytes under the same `webhook-id`, signed afresh with the time
of the attempt. An attempt that gets a 2xx succeeds. A 410 Gone kills the delivery and tells
the caller to disable the endpoint. Anything else (another status, a timeout, a refused
connection) waits for the next step of the retry schedule, or as long as a 429 or 503 asked in
`Retry-After`; after the last step the delivery is a dead letter, kept until it is replayed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from mandi_contracts.public import Delivery as PublicDelivery
from mandi_errors import Conflict
from mandi_webhooks import DEFAULT_RETRY_SCHEDULE, RetrySchedule, next_attempt_delay

__all__ = [
    "MAX_RESPONSE_EXCERPT",
    "Attempt",
    "AttemptResult",
    "Delivery",
    "DeliveryStatus",
    "Verdict",
    "message_body",
]

# What the attempt log keeps of a receiver's answer: enough to see what it said, no more.
MAX_RESPONSE_EXCERPT = 1024
_GONE = 410
_ACKNOWLEDGED = range(200, 300)
_ASKS_TO_WAIT = frozenset({429, 503})


class DeliveryStatus(StrEnum):
    """Where a delivery is: on its way (including waiting for a retry), received, or dead."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DEAD = "dead"


class Verdict(StrEnum):
    """What an attempt decided."""

    SUCCEEDED = "succeeded"
    RETRY = "retry"
    EXHAUSTED = "exhausted"
    GONE = "gone"  # the endpoint answered 410: the delivery is dead and the endpoint disabled


def message_body(delivery: PublicDelivery, occurred_at: datetime) -> bytes:
    """The JSON body every attempt sends: the type, its version, when it happened, the payload
    (the Standard Webhooks shape: `type`, `timestamp`, `data`)."""
    document = {
        "type": delivery.type,
        "version": delivery.version,
        "timestamp": occurred_at.isoformat(),
        "data": delivery.payload.model_dump(mode="json"),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt got: an HTTP status, or the error that prevented one."""

    status_code: int | None
    latency_ms: float
    error: str = ""  # a timeout, a refused connection or address; empty when answered
    response_excerpt: str = ""
    retry_after: timedelta | None = None  # what a 429 or 503 asked for

    @property
    def succeeded(self) -> bool:
        """Whether the receiver acknowledged the delivery."""
        return self.status_code in _ACKNOWLEDGED

    @property
    def summary(self) -> str:
        """The result in a few words, for the delivery's last error."""
        if self.status_code is None:
            return self.error
        return f"HTTP {self.status_code}"


@dataclass(frozen=True)
class Attempt:
    """One line of a delivery's attempt log."""

    delivery_id: UUID
    attempted_at: datetime
    result: AttemptResult


@dataclass(frozen=True)
class Delivery:
    """One public event for one endpoint, and how far its delivery has come."""

    id: UUID
    endpoint_id: UUID
    partner_id: UUID
    webhook_id: str
    event_type: str
    body: bytes
    status: DeliveryStatus
    attempts: int  # made in the current schedule (a replay starts a new one)
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    last_error: str = ""
    # The conversation the event belongs to: what its delivery's own events carry on.
    correlation_id: str | None = None
    traceparent: str | None = None

    @classmethod
    def new(
        cls,
        endpoint_id: UUID,
        public: PublicDelivery,
        body: bytes,
        now: datetime,
        *,
        correlation_id: str | None = None,
        traceparent: str | None = None,
    ) -> Delivery:
        """A delivery due at once."""
        return cls(
            id=uuid4(),
            endpoint_id=endpoint_id,
            partner_id=public.partner_id,
            webhook_id=public.webhook_id,
            event_type=public.type,
            body=body,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
            correlation_id=correlation_id,
            traceparent=traceparent,
        )

    def after(
        self,
        result: AttemptResult,
        now: datetime,
        schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE,
        rng: random.Random | None = None,
    ) -> tuple[Delivery, Verdict]:
        """The delivery once an attempt got `result`, and what that decided."""
        attempts = self.attempts + 1
        moved = replace(self, attempts=attempts, updated_at=now, last_error=result.summary)
        if result.succeeded:
            return replace(moved, status=DeliveryStatus.SUCCEEDED, last_error=""), Verdict.SUCCEEDED
        if result.status_code == _GONE:
            return replace(moved, status=DeliveryStatus.DEAD), Verdict.GONE
        wait = self._wait_before(attempts + 1, result, schedule, rng)
        if wait is None:
            return replace(moved, status=DeliveryStatus.DEAD), Verdict.EXHAUSTED
        return replace(moved, next_attempt_at=now + wait), Verdict.RETRY

    def replayed(self, now: datetime) -> Delivery:
        """The delivery sent again now, with the same id and body, on a fresh schedule."""
        if self.status is DeliveryStatus.PENDING:
            raise Conflict("The delivery is on its way still: it is replayed once it has ended.")
        return replace(
            self,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            updated_at=now,
        )

    @staticmethod
    def _wait_before(
        attempt: int,
        result: AttemptResult,
        schedule: RetrySchedule,
        rng: random.Random | None,
    ) -> timedelta | None:
        scheduled = (
            next_attempt_delay(attempt, schedule)
            if rng is None
            else next_attempt_delay(attempt, schedule, rng)
        )
        if scheduled is None:
            return None
        if result.status_code in _ASKS_TO_WAIT and result.retry_after is not None:
            return result.retry_after  # the receiver said when it can take it again
        return scheduled
