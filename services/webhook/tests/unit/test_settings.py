"""Local endpoints are a development setting: refused where real partners' data flows."""

from __future__ import annotations

import base64
import secrets

import pytest
from pydantic import ValidationError

from mandi_webhook.config import Settings

_SECRETS = {
    "gateway_secret": secrets.token_urlsafe(32),
    "field_keys": f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
    "database_password": secrets.token_urlsafe(16),
    "migration_database_password": secrets.token_urlsafe(16),
    "redis_password": secrets.token_urlsafe(16),
}


def test_local_endpoints_are_off_unless_asked_for() -> None:
    assert Settings(**_SECRETS).allow_local_endpoints is False


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_tests_may_allow_local_endpoints(environment: str) -> None:
    settings = Settings(**_SECRETS, environment=environment, allow_local_endpoints=True)
    assert settings.allow_local_endpoints


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_staging_and_production_refuse_local_endpoints(environment: str) -> None:
    assert not Settings(**_SECRETS, environment=environment).allow_local_endpoints
    with pytest.raises(ValidationError, match="development and test only"):
        Settings(**_SECRETS, environment=environment, allow_local_endpoints=True)
