"""The webhook service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["ATTEMPTS", "ATTEMPT_DURATION", "DELIVERIES_IN_FLIGHT", "OPEN_CIRCUITS"]

ATTEMPTS = Counter(
    "mandi_webhook_attempts_total",
    "Delivery attempts, by what they decided: succeeded, retry, exhausted or gone.",
    ["verdict"],
)
ATTEMPT_DURATION = Histogram(
    "mandi_webhook_attempt_duration_seconds",
    "From connecting to an endpoint to its answer (or the failure).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DELIVERIES_IN_FLIGHT = Gauge(
    "mandi_webhook_deliveries_in_flight", "Deliveries being sent by this process now."
)
OPEN_CIRCUITS = Gauge(
    "mandi_webhook_open_circuits", "Endpoints this process sends nothing to now (breaker open)."
)
