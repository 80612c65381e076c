"""Scopes, and the principal as the gateway hands it to services."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mandi_errors import NotAuthenticated
from mandi_security import (
    GATEWAY_SECRET_HEADER,
    Principal,
    PrincipalResolver,
    PrincipalType,
    from_gateway_headers,
    gateway_headers,
    scope_matches,
)

PARTNER_USER = Principal(
    tenant_id=uuid4(),
    principal_id="user-1",
    type=PrincipalType.EXTERNAL,
    partner_id=uuid4(),
    scopes=frozenset({"partners:read", "availability:*"}),
    roles=frozenset({"partner_user"}),
)


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        ("partners:read", "partners:read", True),
        ("partners:read", "partners:write", False),
        ("partners:*", "partners:write", True),
        ("*:read", "risk:read", True),
        ("*:read", "risk:write", False),
        ("*", "anything:at-all", True),
        ("partner:read", "partners:read", False),
    ],
)
def test_scope_matching(granted: str, required: str, expected: bool) -> None:
    assert scope_matches(granted, required) is expected


def test_an_external_principal_must_belong_to_a_partner() -> None:
    with pytest.raises(ValueError, match="partner"):
        Principal(tenant_id=uuid4(), principal_id="x", type=PrincipalType.EXTERNAL)


def test_gateway_headers_carry_the_principal_unchanged() -> None:
    assert from_gateway_headers(gateway_headers(PARTNER_USER)) == PARTNER_USER


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-tenant-id": "not-a-uuid", "x-principal-id": "u", "x-principal-type": "internal"}],
)
def test_missing_or_malformed_gateway_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(NotAuthenticated):
        from_gateway_headers(headers)


async def test_principal_headers_without_the_gateway_secret_are_not_trusted() -> None:
    resolver = PrincipalResolver(gateway_secret="s3cret-shared-with-nginx", verifier=None)
    spoofed = gateway_headers(PARTNER_USER)
    with pytest.raises(NotAuthenticated):
        await resolver.resolve(spoofed)
    with pytest.raises(NotAuthenticated):
        await resolver.resolve({**spoofed, GATEWAY_SECRET_HEADER: "guessed"})
    vouched = {**spoofed, GATEWAY_SECRET_HEADER: "s3cret-shared-with-nginx"}
    assert await resolver.resolve(vouched) == PARTNER_USER


async def test_an_empty_gateway_secret_trusts_nothing() -> None:
    resolver = PrincipalResolver(gateway_secret="", verifier=None)
    with pytest.raises(NotAuthenticated):
        await resolver.resolve({**gateway_headers(PARTNER_USER), GATEWAY_SECRET_HEADER: ""})
