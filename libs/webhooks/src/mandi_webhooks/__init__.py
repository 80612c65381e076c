"""Standard Webhooks for Mandi: endpoint secrets, signing and verifying deliveries.

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

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "WEBHOOK_ID",
    "WEBHOOK_SIGNATURE",
    "WEBHOOK_TIMESTAMP",
    "MalformedWebhookSecret",
    "VerifiedMessage",
    "WebhookMalformed",
    "WebhookSecret",
    "WebhookSignatureInvalid",
    "WebhookTimestampOutsideTolerance",
    "sign",
    "verify",
    "webhook_headers",
]
