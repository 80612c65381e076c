"""The webhook service's settings, from MANDI_WEBHOOK_* (secrets also from *_FILE)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["Settings"]

_DEVELOPMENT = frozenset({"development", "test"})


class Settings(ServiceSettings):
    """Settings of the webhook service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_WEBHOOK_", extra="ignore", frozen=True)

    service_name: str = "webhook"
    http_port: int = 58106

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")
    field_keys: SecretStr | None = secret("keyring")  # seals endpoints' signing secrets

    # Development only: endpoints may be http, and on this machine's loopback addresses (a
    # receiver started beside `make dev`). Refused outside development and test.
    allow_local_endpoints: bool = False
    # A URL's host that has not resolved within this long is refused as not resolving.
    resolve_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 7)
    # Re-encryption under the newest field key: rows per transaction, pause between sweeps.
    rekey_batch_size: int = Field(default=200, ge=1)
    rekey_interval_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _local_endpoints_in_development_only(self) -> Self:
        if self.allow_local_endpoints and self.environment not in _DEVELOPMENT:
            raise ValueError(
                "allow_local_endpoints lets webhooks reach this machine: development and test only"
            )
        return self
