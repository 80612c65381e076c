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

    # Deliveries: the deadline of one attempt (connecting included) and of connecting alone.
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # The wait before each attempt (the first's is 0), jittered by ±retry_jitter.
    retry_delays_seconds: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    retry_jitter: float = Field(default=0.1, ge=0, lt=1)
    # Sends in flight in one process, and the share one endpoint may hold of them.
    dispatch_concurrency: int = Field(default=64, ge=1, le=1000)
    dispatch_per_endpoint: int = Field(default=16, ge=1, le=1000)
    dispatch_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # The breaker: failures in a row that open it, and how long it stays open (doubling).
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cool_down_seconds: float = Field(default=5.0, gt=0)
    breaker_max_cool_down_seconds: float = Field(default=300.0, gt=0)
    # Ended deliveries (succeeded or dead) and their attempt logs are kept this long.
    delivery_retention_days: int = Field(default=30, ge=1, le=3650)

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
