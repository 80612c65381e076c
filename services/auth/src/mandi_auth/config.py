"""The auth service's settings, read from MANDI_AUTH_* (secrets also from MANDI_AUTH_*_FILE)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["LimitSettings", "Settings"]


class LimitSettings(BaseModel):
    """A rate (sustained per second, burst) and an optional daily quota."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)
    per_day: int | None = Field(default=None, ge=1)


def _default_plans() -> dict[str, LimitSettings]:
    return {
        "standard": LimitSettings(per_second=20, burst=40, per_day=200_000),
        "premium": LimitSettings(per_second=100, burst=200, per_day=2_000_000),
    }


class Settings(ServiceSettings):
    """Settings of the auth service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    http_port: int = 58101

    issuer: str = "mandi-auth"
    audience: str = "mandi"
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    signing_key_rotation_days: int = Field(default=30, ge=1)
    signing_key_propagation_seconds: int = Field(default=120, ge=0)
    signing_key_refresh_seconds: int = Field(default=30, ge=1)
    # Re-encryption under the newest key of `key_encryption_keys` and `field_keys`: rows per
    # transaction, pause between sweeps.
    rekey_batch_size: int = Field(default=200, ge=1)
    rekey_interval_seconds: float = Field(default=300.0, gt=0)

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")
    # Keys the hash of API key secrets and refresh tokens (and the sign-in throttle's names).
    api_key_pepper: SecretStr | None = secret("token")
    api_key_environment: Literal["live", "test"] = "live"
    api_key_rotation_overlap_hours: int = Field(default=24, ge=0, le=24 * 30)
    key_encryption_keys: SecretStr | None = secret("keyring")  # seals the private signing keys
    field_keys: SecretStr | None = secret("keyring")  # seals emails
    email_index_key: SecretStr | None = secret("key32")  # the blind index emails are found by

    plans: dict[str, LimitSettings] = Field(default_factory=_default_plans)
    per_user: LimitSettings = LimitSettings(per_second=20, burst=40)
    # Shared by all of one partner's keys and users: above any one plan, below the tenant's.
    per_partner: LimitSettings = LimitSettings(per_second=200, burst=400)
    per_tenant: LimitSettings = LimitSettings(per_second=500, burst=1000)
    max_keys_per_partner: int = Field(default=25, ge=1)
    # Sign-in throttling: after its free attempts, each scope makes the next attempt wait 1 s,
    # then twice as long after each further failure, up to login_max_wait_seconds. Every attempt
    # counts until the password is found correct; a correct sign-in clears the account's counts.
    login_free_attempts: int = Field(default=5, ge=1)  # one account from one client address
    login_free_attempts_per_account: int = Field(default=100, ge=1)  # one account, any address
    login_free_attempts_per_address: int = Field(default=50, ge=1)  # one address, any account
    login_max_wait_seconds: float = Field(default=900, gt=0)

    @model_validator(mode="after")
    def _require_default_plan(self) -> Self:
        # Keys whose plan is later removed from the settings fall back to this one.
        if "standard" not in self.plans:
            raise ValueError("plans must include `standard`, the default plan")
        return self
