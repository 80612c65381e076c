"""The availability service's settings, from MANDI_AVAILABILITY_* (secrets also from *_FILE)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Settings of the availability service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_AVAILABILITY_", extra="ignore", frozen=True)
    # Delivery places are PostGIS geography points, searched by radius with a GiST index.
    database_extensions: ClassVar[tuple[str, ...]] = ("postgis",)

    service_name: str = "availability"
    http_port: int = 58103

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")

    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 7)
    # The longest a commodity stays in the cache; every change clears it at once anyway.
    catalog_cache_seconds: int = Field(default=300, ge=1)
    # How often the leader takes expired offers off the book and gives back overdue reservations.
    expiry_sweep_seconds: float = Field(default=30.0, gt=0)
    reservation_sweep_seconds: float = Field(default=10.0, gt=0)
