"""The matching service's settings, from MANDI_MATCHING_* (secrets also from *_FILE)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mandi_config import ServiceSettings, secret

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Settings of the matching service."""

    model_config = SettingsConfigDict(env_prefix="MANDI_MATCHING_", extra="ignore", frozen=True)
    # Candidates are found by radius around the delivery point, with a GiST index.
    database_extensions: ClassVar[tuple[str, ...]] = ("postgis",)

    service_name: str = "matching"
    http_port: int = 58105

    # Shared with nginx: principal headers are trusted only with it.
    gateway_secret: SecretStr | None = secret("token", shared_file="gateway.secret")

    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 7)

    # Matching: how far from the delivery point a candidate may lie, and how many candidates
    # the nearest-first query hands the scorer for one offer.
    match_radius_km: float = Field(default=500.0, gt=0, le=5000)
    candidates_per_offer: int = Field(default=50, ge=1, le=500)

    # The trade saga: how long each participant has to answer a step, and how long availability
    # holds a reservation unconfirmed (longer than the steps together, so it outlives them).
    step_deadline_seconds: float = Field(default=10.0, gt=0)
    reservation_hold_seconds: float = Field(default=300.0, gt=0)
    compensation_deadline_seconds: float = Field(default=10.0, gt=0)
    compensation_attempts: int = Field(default=5, ge=1, le=50)
    # A cancellation's releases are never refused, only late: they are given long to answer.
    cancellation_step_deadline_seconds: float = Field(default=120.0, gt=0)
    # How often the leader times out sagas whose deadline passed, and how many per tenant.
    saga_sweep_seconds: float = Field(default=1.0, gt=0)
    saga_sweep_batch: int = Field(default=200, ge=1)
