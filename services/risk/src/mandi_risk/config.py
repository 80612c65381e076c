"""The risk service's settings, from MANDI_RISK_* (secrets also from *_FILE)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Settings of the risk service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_RISK_", extra="ignore", frozen=True)

    service_name: str = "risk"
    http_port: int = 58104

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")

    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 7)

    # The credit bureau: where it is, and how long and how often it is asked before its
    # circuit breaker opens (then assessments use the last score it gave, or none).
    bureau_url: str = "http://127.0.0.1:58191"
    bureau_token: SecretStr | None = secret("token", shared_file="fake-bureau.token")
    bureau_timeout_seconds: float = Field(default=1.0, gt=0)
    bureau_attempts: int = Field(default=2, ge=1, le=5)
    bureau_failures_to_open: int = Field(default=5, ge=1)
    bureau_reset_seconds: float = Field(default=30.0, gt=0)
    # A score the bureau gave this recently is used without asking again (0: ask every time).
    bureau_fresh_hours: float = Field(default=24.0, ge=0)

    # Drift: how far back the leader looks at assessments, how often, and from which index on
    # a factor counts as shifted (0.25: a significant shift by the usual reading).
    drift_window_hours: int = Field(default=24, ge=1)
    drift_check_seconds: float = Field(default=300.0, gt=0)
    drift_threshold: float = Field(default=0.25, gt=0)
