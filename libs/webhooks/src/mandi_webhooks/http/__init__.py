"""The receiving side of Mandi's webhooks for FastAPI/Starlette applications.

It imports a web framework, so it stays out of `mandi_webhooks`, which domain code may import.
"""

from mandi_webhooks.http.receiver import ReceivedWebhook, SecretsProvider, WebhookReceiver

__all__ = ["ReceivedWebhook", "SecretsProvider", "WebhookReceiver"]
