"""The saga metric: how many sagas entered each status, by saga type.

A counter, not a gauge: every replica applies transitions, so only a sum over replicas is
true, and Prometheus sums counters. An alert on sagas needing an operator reads
`increase(mandi_saga_transitions_total{status="needs_operator"}[15m]) > 0`; a resolution or
retry shows as a later transition out of it.
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["SAGA_TRANSITIONS"]

SAGA_TRANSITIONS = Counter(
    "mandi_saga_transitions_total",
    "Sagas that entered a status (started as running, compensating, completed, failed,"
    " needs_operator), by saga type.",
    ["saga_type", "status"],
)
