"""Principal.require_scope: a use case refuses a caller whose scopes do not cover it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mandi_errors import PermissionDenied
from mandi_security import Principal, PrincipalType


def _principal(*scopes: str) -> Principal:
    return Principal(
        tenant_id=uuid4(),
        principal_id="user-1",
        type=PrincipalType.INTERNAL,
        scopes=frozenset(scopes),
    )


@pytest.mark.parametrize(
    "granted",
    [("partners:write",), ("risk:read", "partners:*"), ("*:write",), ("*",)],
    ids=["exact", "any action of the service", "the action in any service", "everything"],
)
def test_a_granted_scope_that_covers_the_required_one_lets_the_caller_through(
    granted: tuple[str, ...],
) -> None:
    _principal(*granted).require_scope("partners:write")


@pytest.mark.parametrize(
    "granted",
    [(), ("partners:read",), ("risk:write", "risk:*"), ("*:read",), ("partner:write",)],
    ids=["no scopes", "another action", "another service", "any service, other action", "typo"],
)
def test_a_caller_without_the_scope_is_refused_with_the_scope_named(
    granted: tuple[str, ...],
) -> None:
    with pytest.raises(PermissionDenied, match="partners:write") as refused:
        _principal(*granted).require_scope("partners:write")
    assert refused.value.status == 403
