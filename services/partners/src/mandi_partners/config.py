"""The partners service's settings, read from MANDI_PARTNERS_* (secrets also from *_FILE)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Settings of the partners service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_PARTNERS_", extra="ignore", frozen=True)

    service_name: str = "partners"
    http_port: int = 58102

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")
    field_keys: SecretStr | None = secret("keyring")  # seals tax ids, contacts' names and ways
    tax_id_index_key: SecretStr | None = secret("key32")  # tax ids are unique and found by it
    email_index_key: SecretStr | None = secret("key32")  # contacts' emails (insider trading)
    phone_index_key: SecretStr | None = secret("key32")  # contacts' phones (insider trading)

    verifier_url: str = "http://127.0.0.1:58190"
    # The KYC vendor's; locally the fake verifier's, shared through its file.
    verifier_token: SecretStr | None = secret(
        "token", required=False, shared_file="fake-verifier.token"
    )
    verifier_timeout_seconds: float = Field(default=3.0, gt=0)
    verifier_attempts: int = Field(default=3, ge=1)
    verifier_breaker_fail_max: int = Field(default=3, ge=1)
    verifier_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # How often waiting applications (parked, or never verified after a crash) are retried.
    verification_retry_seconds: float = Field(default=30.0, gt=0)

    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 7)
    # Re-encryption under the newest field key: rows per transaction, pause between sweeps.
    rekey_batch_size: int = Field(default=200, ge=1)
    rekey_interval_seconds: float = Field(default=300.0, gt=0)
