"""A FastAPI dependency that accepts only deliveries signed with a secret the receiver knows.

    app = FastAPI()
    install_problem_handlers(app)  # from mandi_errors.http: refusals become problem+json
    Delivery = Annotated[ReceivedWebhook, Depends(WebhookReceiver([secret]))]

    @app.post("/webhooks")
    async def receive(delivery: Delivery) -> None: ...

The signature is checked on the raw body, before anything parses it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request

from mandi_webhooks.endpoint_secret import WebhookSecret
from mandi_webhooks.signing import DEFAULT_TOLERANCE, WebhookMalformed, verify

__all__ = ["ReceivedWebhook", "SecretsProvider", "WebhookReceiver"]

# Finds the secrets of the endpoint a request came to (e.g. by its path), at request time.
SecretsProvider = Callable[[Request], Awaitable[Sequence[WebhookSecret]]]


@dataclass(frozen=True)
class ReceivedWebhook:
    """A verified delivery: its id (to de-duplicate on), its timestamp and its JSON payload."""

    message_id: str
    timestamp: int
    payload: Any


class WebhookReceiver:
    """Verifies a request's Standard Webhooks headers against its raw body, as a dependency.

    A refusal is raised as a `mandi_errors` domain error, which the problem handlers answer:
    400 `webhook-malformed` (no id or timestamp, or a body that is not JSON), 401
    `webhook-signature-invalid` or 401 `webhook-timestamp-outside-tolerance`.
    """

    def __init__(
        self,
        secrets: Sequence[WebhookSecret] | SecretsProvider,
        *,
        tolerance: timedelta = DEFAULT_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._tolerance = tolerance
        self._clock = clock

    async def __call__(self, request: Request) -> ReceivedWebhook:
        """The verified delivery of this request."""
        body = await request.body()
        secrets = await self._secrets_for(request)
        message = verify(
            request.headers, body, secrets, tolerance=self._tolerance, now=self._clock()
        )
        return ReceivedWebhook(
            message_id=message.message_id,
            timestamp=message.timestamp,
            payload=_parse_json(message.body),
        )

    async def _secrets_for(self, request: Request) -> Sequence[WebhookSecret]:
        if callable(self._secrets):
            return await self._secrets(request)
        return self._secrets


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WebhookMalformed("The webhook's body is not JSON.") from None
