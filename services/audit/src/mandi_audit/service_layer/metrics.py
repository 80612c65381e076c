"""The audit service's metrics: what the journal appended, what verification found and when."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

__all__ = [
    "CHECKPOINTS_SIGNED",
    "JOURNAL_APPENDED",
    "VERIFICATION_BROKEN",
    "VERIFICATION_COMPLETED_AT",
    "VERIFICATION_RECORDS",
]

JOURNAL_APPENDED = Counter(
    "mandi_audit_records_appended_total", "Records appended to the tenants' hash chains."
)
CHECKPOINTS_SIGNED = Counter(
    "mandi_audit_checkpoints_signed_total", "Chain heads signed, by what made them due.", ["reason"]
)
VERIFICATION_BROKEN = Gauge(
    "mandi_audit_verification_broken_chains",
    "Chains the last background verification found broken (0: every chain holds).",
)
VERIFICATION_COMPLETED_AT = Gauge(
    "mandi_audit_verification_completed_timestamp_seconds",
    "When the background verification last went through every chain (its age is now minus this).",
)
VERIFICATION_RECORDS = Counter(
    "mandi_audit_verification_records_total", "Records the background verification has checked."
)
