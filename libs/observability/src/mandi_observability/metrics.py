"""Every Prometheus metric a Mandi library exports, named in one place.

Services add their own metrics beside their code; these are the ones the shared libraries
update, so dashboards and alert rules can rely on their names and labels.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "CIRCUIT_BREAKER_STATE",
    "CONSUMER_HANDLER_OUTCOMES",
    "CONSUMER_LAG",
    "DEAD_LETTERS",
    "EXTERNAL_CALLS",
    "HTTP_REQUEST_DURATION",
    "OUTBOX_BACKLOG",
    "OUTBOX_OLDEST_AGE",
    "OUTBOX_PUBLISHED",
    "OUTBOX_PUBLISH_DURATION",
    "READ_FALLBACKS",
    "REPLICA_LAG",
    "REPLICA_SERVING_READS",
    "SAGA_TRANSITIONS",
]

# Buckets from 1 ms to 10 s: API latency objectives sit in the tens to hundreds of ms.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUEST_DURATION = Histogram(
    "mandi_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status.",
    ["service", "method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge(
    "mandi_outbox_backlog",
    "Events committed to the outbox and not yet acknowledged by Kafka.",
    ["service"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "mandi_outbox_oldest_age_seconds",
    "Age of the oldest event still waiting in the outbox (0 when empty).",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "mandi_outbox_published_total",
    "Events the outbox relay published and Kafka acknowledged.",
    ["service"],
)
OUTBOX_PUBLISH_DURATION = Histogram(
    "mandi_outbox_batch_duration_seconds",
    "Time to publish one outbox batch, from fetching rows to deleting them.",
    ["service"],
    buckets=_LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "mandi_consumer_lag",
    "Messages in a partition the consumer group has not yet handled.",
    ["group", "topic", "partition"],
)
CONSUMER_HANDLER_OUTCOMES = Counter(
    "mandi_consumer_messages_total",
    "Messages handled by a consumer, by outcome: processed, duplicate, retried, parked, skipped,"
    " discarded, dead_lettered.",
    ["group", "topic", "outcome"],
)
DEAD_LETTERS = Counter(
    "mandi_dead_letters_total",
    "Messages sent to a dead-letter topic, by the topic they came from.",
    ["group", "topic"],
)
CIRCUIT_BREAKER_STATE = Gauge(
    "mandi_circuit_breaker_state",
    "State of a circuit breaker around an external dependency: 0 closed, 1 half-open, 2 open.",
    ["breaker"],
)
EXTERNAL_CALLS = Counter(
    "mandi_external_calls_total",
    "Calls to an external dependency, by outcome: success, failure, rejected, fallback.",
    ["breaker", "outcome"],
)
REPLICA_LAG = Gauge(
    "mandi_db_replica_lag_seconds",
    "How far the read replica's replay is behind the primary, measured on the replica "
    "(NaN while it cannot be reached).",
    ["service"],
)
REPLICA_SERVING_READS = Gauge(
    "mandi_db_replica_serving_reads",
    "1 while reads go to the read replica, 0 while they fall back to the primary.",
    ["service"],
)
READ_FALLBACKS = Counter(
    "mandi_db_read_fallbacks_total",
    "Reads served by the primary because the replica was unavailable or too far behind.",
    ["service", "reason"],
)

# Sagas that entered each status, by saga type. A counter, not a gauge: every replica applies
# transitions, so only a sum over replicas is true. An alert on sagas needing an operator reads
# `increase(mandi_saga_transitions_total{status="needs_operator"}[15m]) > 0`; a resolution or
# retry shows as a later transition out of it.
SAGA_TRANSITIONS = Counter(
    "mandi_saga_transitions_total",
    "Sagas that entered a status (started as running, compensating, completed, failed,"
    " needs_operator), by saga type.",
    ["saga_type", "status"],
)
