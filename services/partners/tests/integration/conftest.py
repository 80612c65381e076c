"""The partners service built on the real PostgreSQL, on a database of the module's."""

from __future__ import annotations

import pytest

from mandi_partners.config import Settings
from mandi_partners.entrypoints.cli import MIGRATIONS
from mandi_runtime import migrate
from mandi_testing import Infrastructure, TestDatabase
from mandi_testing.platform import partners_secrets
from mandi_testing.processes import service_environment

_PREFIX = "MANDI_PARTNERS_"


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated to the newest revision."""
    environment = {
        **service_environment("partners", infrastructure, database, port=0),
        **partners_secrets("gateway-secret-for-tests", "verifier-token"),
        # Nothing listens here: verifications park at once, which these tests do not need.
        "MANDI_PARTNERS_VERIFIER_URL": "http://127.0.0.1:9",
    }
    values = {name.removeprefix(_PREFIX).lower(): value for name, value in environment.items()}
    built = Settings(**values)
    migrate(built, MIGRATIONS)
    return built
