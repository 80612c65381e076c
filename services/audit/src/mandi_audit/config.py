"""The audit service's settings, from MANDI_AUDIT_* (secrets also from *_FILE)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Settings of the audit service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_AUDIT_", extra="ignore", frozen=True)

    service_name: str = "audit"
    http_port: int = 58107

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")
    # Ed25519 seeds by id (`k1:<base64>,k2:<base64>`): the last signs checkpoints and exports;
    # a rotation appends a key. Every key that ever signed stays published from the database.
    checkpoint_keys: SecretStr | None = secret("keyring")

    # A tenant's head is signed every this many records, or this long after its last signature.
    checkpoint_every_records: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=60.0, gt=0)
    # Where the newest checkpoint of every tenant is kept outside the database ("": nowhere).
    checkpoint_file: str = ""

    # The background verification: how often each tenant's new records are checked.
    verify_every_seconds: float = Field(default=300.0, gt=0)
    # Records read per round trip when verifying, and the most one API call verifies.
    verify_batch_size: int = Field(default=5000, ge=1)
    verify_max_records: int = Field(default=1_000_000, ge=1)
    # Chains the background verification checks at once (the database computes their digests).
    verify_concurrency: int = Field(default=4, ge=1, le=16)
