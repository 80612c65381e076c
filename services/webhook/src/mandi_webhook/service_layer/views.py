"""What the API shows: plain JSON-able models, so an idempotent answer is stored and replayed
exactly. A signing secret is shown once, in the answer that made it; every other answer names
an endpoint's secrets by id and lifetime alone."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_webhook.domain.endpoints import Endpoint, SigningSecret

__all__ = [
    "EndpointView",
    "EndpointWithSecretView",
    "SecretView",
    "endpoint_view",
    "endpoint_with_secret_view",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SecretView(_View):
    """One of an endpoint's signing secrets, without the secret: from when, and until when
    (null: until the next rotation)."""

    id: UUID
    created_at: datetime
    expires_at: datetime | None


class EndpointView(_View):
    """An endpoint: where, which event types (none: every one), whether it receives them."""

    id: UUID
    partner_id: UUID
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    description: str
    rate_limit: int
    ordered: bool
    secrets: list[SecretView]
    created_at: datetime
    updated_at: datetime
    version: int


class EndpointWithSecretView(EndpointView):
    """An endpoint with the signing secret just made (`whsec_…`), shown this once."""

    secret_id: UUID
    secret: str


def endpoint_view(endpoint: Endpoint) -> EndpointView:
    """The endpoint as the API shows it."""
    return EndpointView(**_fields(endpoint))


def endpoint_with_secret_view(endpoint: Endpoint, new: SigningSecret) -> EndpointWithSecretView:
    """The endpoint, with the secret that was just made for it."""
    return EndpointWithSecretView(**_fields(endpoint), secret_id=new.id, secret=new.secret.reveal())


def _fields(endpoint: Endpoint) -> dict[str, object]:
    return {
        "id": endpoint.id,
        "partner_id": endpoint.partner_id,
        "url": endpoint.url,
        "event_types": sorted(endpoint.event_types),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "description": endpoint.description,
        "rate_limit": endpoint.rate_limit,
        "ordered": endpoint.ordered,
        "secrets": [_secret_view(each) for each in endpoint.secrets],
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "version": endpoint.version,
    }


def _secret_view(secret: SigningSecret) -> SecretView:
    return SecretView(id=secret.id, created_at=secret.created_at, expires_at=secret.expires_at)
