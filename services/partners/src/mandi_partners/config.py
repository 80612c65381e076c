"""The partners service's settings, read from MANDI_PARTNERS_* (secrets also from *_FILE)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings

__all__ = ["Settings"]

# Secrets the service cannot run without, in development too: each names what it protects.
_REQUIRED_SECRETS = (
    "gateway_secret",  # shared with nginx: principal headers are trusted only with it
    "field_keys",  # seals tax ids, contacts' names, emails and phones
    "tax_id_index_key",  # the blind index tax ids are unique by and found by
    "email_index_key",  # the blind index of contacts' emails (the insider-trading rule)
    "phone_index_key",  # the blind index of contacts' phones (the insider-trading rule)
)


class Settings(ServiceSettings):
    """Settings of the partners service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_PARTNERS_", extra="ignore", frozen=True)

    service_name: str = "partners"
    http_port: int = 58102
    http_workers: int = Field(default=1, ge=1)
    database_url: str = "postgresql://mandi_partners_app@127.0.0.1:55432/mandi_partners"
    migration_database_url: str = "postgresql://mandi_partners_owner@127.0.0.1:55432/mandi_partners"

    gateway_secret: SecretStr | None = None
    field_keys: SecretStr | None = None
    tax_id_index_key: SecretStr | None = None
    email_index_key: SecretStr | None = None
    phone_index_key: SecretStr | None = None

    verifier_url: str = "http://127.0.0.1:58190"
    verifier_token: SecretStr | None = None
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

    @model_validator(mode="after")
    def _require_secrets(self) -> Self:
        missing = [name for name in _REQUIRED_SECRETS if getattr(self, name) is None]
        if missing:
            variables = ", ".join(f"MANDI_PARTNERS_{name.upper()}" for name in missing)
            raise ValueError(f"not set: {variables} (or their _FILE variants)")
        return self

    def secret(self, name: str) -> str:
        """The value of a required secret."""
        value = getattr(self, name)
        if not isinstance(value, SecretStr):
            raise TypeError(f"{name} is not a secret")
        return value.get_secret_value()
