"""The HTTP sides of Mandi's webhooks: the receiver for FastAPI/Starlette applications, and the
guarded client deliveries go out with.

They import web frameworks, so they stay out of `mandi_webhooks`, which domain code may import.
"""

from mandi_webhooks.http.receiver import ReceivedWebhook, SecretsProvider, WebhookReceiver
from mandi_webhooks.http.transport import GuardedNetworkBackend, delivery_client

__all__ = [
    "GuardedNetworkBackend",
    "ReceivedWebhook",
    "SecretsProvider",
    "WebhookReceiver",
    "delivery_client",
]
