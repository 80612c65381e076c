"""The partners service built on the real PostgreSQL, on a database of the module's."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from uuid import uuid4

import pytest

from mandi_partners.config import Settings
from mandi_partners.domain.partner import Contact, PartnerType
from mandi_partners.domain.tax_ids import TaxIdKind, gstin_check_character, parse_tax_id
from mandi_partners.entrypoints.service import DEFINITION
from mandi_partners.service_layer.partners import RegisterPartner
from mandi_runtime import migrate
from mandi_testing import Infrastructure, TestDatabase
from mandi_testing.platform import settings_values


@pytest.fixture(scope="module")
def settings(infrastructure: Infrastructure, database: TestDatabase) -> Settings:
    """Settings pointing at this module's database, migrated to the newest revision."""
    # Nothing listens at the verifier's URL: verifications park at once, which is all they need.
    unreachable = {"MANDI_PARTNERS_VERIFIER_URL": "http://127.0.0.1:9"}
    built = Settings(**settings_values("partners", infrastructure, database, unreachable))
    migrate(built, DEFINITION.migrations)
    return built


def _registration() -> RegisterPartner:
    digits = 1000 + secrets.randbelow(8999)
    letters = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
    pan = f"{letters[:3]}C{letters[3]}{digits}{letters[4]}"
    gstin = f"27{pan}1Z"
    return RegisterPartner(
        legal_name=f"Acme {uuid4().hex[:6]} Ltd",
        country="IN",
        types=frozenset({PartnerType.SELLER}),
        tax_ids=(
            parse_tax_id(TaxIdKind.PAN, "IN", pan),
            parse_tax_id(TaxIdKind.GSTIN, "IN", gstin + gstin_check_character(gstin)),
        ),
        contacts=(
            Contact("Asha Rao", email=f"{uuid4().hex[:8]}@acme.example", phone="+919876543210"),
        ),
    )


@pytest.fixture
def new_registration() -> Callable[[], RegisterPartner]:
    """Makes registrations of new companies: a fresh PAN, its GSTIN, a contact."""
    return _registration
