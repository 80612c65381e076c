"""Who registers, sees and changes which endpoints."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mandi_errors import InvalidInput, NotFound, PermissionDenied
from mandi_security.principal import Principal, PrincipalType
from mandi_webhook.domain import access

TENANT, PARTNER, OTHER = uuid4(), uuid4(), uuid4()
PARTNER_ADMIN = Principal(
    TENANT, "erp-key", PrincipalType.EXTERNAL, PARTNER, frozenset({"webhook:*"})
)
PARTNER_USER = Principal(
    TENANT, "clerk", PrincipalType.EXTERNAL, PARTNER, frozenset({"partners:read"})
)
OPERATOR = Principal(TENANT, "ops", PrincipalType.INTERNAL, None, frozenset({"*"}))


def test_a_partner_registers_for_itself_and_operator_staff_name_the_partner() -> None:
    assert access.acting_partner(PARTNER_ADMIN, None) == PARTNER
    assert access.acting_partner(OPERATOR, OTHER) == OTHER
    with pytest.raises(PermissionDenied):
        access.acting_partner(PARTNER_ADMIN, OTHER)
    with pytest.raises(InvalidInput, match="partner_id"):
        access.acting_partner(OPERATOR, None)


def test_without_the_scope_a_partner_s_staff_are_refused() -> None:
    with pytest.raises(PermissionDenied, match="webhook:write"):
        access.acting_partner(PARTNER_USER, None)
    with pytest.raises(PermissionDenied, match="webhook:read"):
        access.listed_partner(PARTNER_USER, None)


def test_another_partner_s_endpoints_do_not_exist_for_a_partner() -> None:
    access.require_visible(PARTNER_ADMIN, PARTNER)
    access.require_visible(OPERATOR, OTHER)
    with pytest.raises(NotFound):
        access.require_visible(PARTNER_ADMIN, OTHER)
    assert access.listed_partner(PARTNER_ADMIN, None) == PARTNER
    assert access.listed_partner(OPERATOR, None) is None
    with pytest.raises(NotFound):
        access.listed_partner(PARTNER_ADMIN, OTHER)
