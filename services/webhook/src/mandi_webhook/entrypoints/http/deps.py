"""FastAPI dependencies of the webhook service: its use cases' dependencies; the caller,
Idempotency-Key and If-Match are the runtime's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mandi_runtime.requests import deps_of
from mandi_webhook.service_layer.dependencies import WebhookDependencies

__all__ = ["DepsDep"]

DepsDep = Annotated[WebhookDependencies, Depends(deps_of)]
