"""Standard Webhooks for Mandi: signing, verifying, the SSRF guard and the retry schedule.

Plain Python with no web framework, so a service's domain may import it; the FastAPI receiver
dependency is in `mandi_webhooks.http`.
"""

from mandi_webhooks.endpoint_secret import (
    MAX_SECRET_BYTES,
    MIN_SECRET_BYTES,
    SECRET_PREFIX,
    MalformedWebhookSecret,
    WebhookSecret,
)
from mandi_webhooks.retry_schedule import (
    DEFAULT_RETRY_AFTER_CAP,
    DEFAULT_RETRY_SCHEDULE,
    RetrySchedule,
    next_attempt_delay,
    parse_retry_after,
)
from mandi_webhooks.signing import (
    DEFAULT_TOLERANCE,
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    VerifiedMessage,
    WebhookMalformed,
    WebhookSignatureInvalid,
    WebhookTimestampOutsideTolerance,
    sign,
    verify,
    webhook_headers,
)
from mandi_webhooks.ssrf_guard import (
    EndpointRefused,
    IPAddress,
    RefusedRange,
    Resolver,
    check_connected_address,
    check_endpoint_url,
    classify_address,
    resolve_host,
)

__all__ = [
    "DEFAULT_RETRY_AFTER_CAP",
    "DEFAULT_RETRY_SCHEDULE",
    "DEFAULT_TOLERANCE",
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "WEBHOOK_ID",
    "WEBHOOK_SIGNATURE",
    "WEBHOOK_TIMESTAMP",
    "EndpointRefused",
    "IPAddress",
    "MalformedWebhookSecret",
    "RefusedRange",
    "Resolver",
    "RetrySchedule",
    "VerifiedMessage",
    "WebhookMalformed",
    "WebhookSecret",
    "WebhookSignatureInvalid",
    "WebhookTimestampOutsideTolerance",
    "check_connected_address",
    "check_endpoint_url",
    "classify_address",
    "next_attempt_delay",
    "parse_retry_after",
    "resolve_host",
    "sign",
    "verify",
    "webhook_headers",
]
