"""Users, roles and scopes; refresh tokens; sign-in backoff; signing-key schedule; access rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from mandi_auth.domain.access import required_scope
from mandi_auth.domain.identity import Tenant, User, UserStatus, normalize_email, scopes_of
from mandi_auth.domain.limits import Limit
from mandi_auth.domain.login_backoff import LoginBackoff
from mandi_auth.domain.sessions import RefreshOutcome, RefreshToken
from mandi_auth.domain.signing_keys import SigningKey, next_key_due, published_keys, signing_key
from mandi_errors import InvalidInput
from mandi_security.principal import PrincipalType

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_emails_compare_trimmed_and_lower_case():
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    for wrong in ("no-at-sign", "a@b", "two@@example.com", "x" * 250 + "@example.com"):
        with pytest.raises(InvalidInput):
            normalize_email(wrong)


def test_roles_grant_scopes_by_user_type():
    assert scopes_of(PrincipalType.INTERNAL, frozenset({"admin"})) == {"*"}
    assert "auth:write" in scopes_of(PrincipalType.EXTERNAL, frozenset({"partner_admin"}))
    with pytest.raises(InvalidInput):
        scopes_of(PrincipalType.EXTERNAL, frozenset({"admin"}))  # an internal role
    with pytest.raises(InvalidInput):
        scopes_of(PrincipalType.INTERNAL, frozenset())


def test_external_users_belong_to_a_partner_and_internal_users_to_none():
    base = {"id": uuid4(), "tenant_id": uuid4(), "email": "a@b.example", "password_hash": "h"}
    with pytest.raises(InvalidInput):
        User(**base, type=PrincipalType.EXTERNAL, roles=frozenset({"partner_user"}))
    with pytest.raises(InvalidInput):
        User(**base, type=PrincipalType.INTERNAL, roles=frozenset({"admin"}), partner_id=uuid4())
    partner = uuid4()
    user = User(
        **base, type=PrincipalType.EXTERNAL, roles=frozenset({"partner_user"}), partner_id=partner
    )
    assert user.principal().partner_id == partner
    user.status = UserStatus.DISABLED
    assert not user.can_sign_in


def test_tenant_slugs_are_plain():
    assert Tenant(uuid4(), "acme-trade", "Acme").slug == "acme-trade"
    for slug in ("A", "Acme", "acme trade", "-acme"):
        with pytest.raises(InvalidInput):
            Tenant(uuid4(), slug, "Acme")


def _refresh_token():
    return RefreshToken(uuid4(), uuid4(), uuid4(), uuid4(), NOW, NOW + timedelta(days=14))


def test_a_refresh_token_rotates_once_then_counts_as_reused():
    token = _refresh_token()
    assert token.outcome_of_use(NOW) is RefreshOutcome.ROTATE
    token.mark_used(NOW)
    assert token.outcome_of_use(NOW) is RefreshOutcome.REUSED


def test_an_expired_or_revoked_refresh_token_cannot_rotate():
    token = _refresh_token()
    assert token.outcome_of_use(NOW + timedelta(days=14)) is RefreshOutcome.EXPIRED
    token.revoked_at = NOW
    assert token.outcome_of_use(NOW) is RefreshOutcome.REVOKED


def test_sign_in_backoff_doubles_after_the_free_attempts_up_to_a_cap():
    backoff = LoginBackoff(free_attempts=3, base_seconds=1, max_seconds=60)
    assert [backoff.wait_after(n) for n in range(2, 7)] == [0, 1, 2, 4, 8]
    assert backoff.wait_after(100) == 60


def _signing_key(name, activates):
    return SigningKey(name, b"k", activates - timedelta(minutes=2), activates)


def test_a_new_signing_key_is_published_before_it_signs():
    old, new = _signing_key("old", NOW - timedelta(days=30)), _signing_key("new", NOW + MINUTE)
    assert signing_key([old, new], NOW) == old
    assert {key.kid for key in published_keys([old, new], NOW, 10 * MINUTE)} == {"old", "new"}


def test_a_replaced_signing_key_stays_published_for_one_token_lifetime():
    old, new = _signing_key("old", NOW - timedelta(days=30)), _signing_key("new", NOW)
    assert signing_key([old, new], NOW) == new
    lifetime = 10 * MINUTE
    assert "old" in {key.kid for key in published_keys([old, new], NOW + 9 * MINUTE, lifetime)}
    assert "old" not in {key.kid for key in published_keys([old, new], NOW + lifetime, lifetime)}


def test_a_signing_key_is_due_when_none_exists_or_the_newest_is_old():
    assert next_key_due([], NOW, timedelta(days=30))
    recent = _signing_key("recent", NOW - timedelta(days=1))
    assert not next_key_due([recent], NOW, timedelta(days=30))
    assert next_key_due([recent], NOW + timedelta(days=30), timedelta(days=30))


def test_reading_needs_read_scope_and_anything_else_write_scope():
    assert required_scope("GET", "matching", "/api/v1/matching/matches") == "matching:read"
    assert required_scope("HEAD", "matching", "/api/v1/matching") == "matching:read"
    assert required_scope("POST", "partners", "/api/v1/partners/") == "partners:write"
    assert required_scope("DELETE", "auth", "/api/v1/auth/api-keys/1") == "auth:write"


def test_a_post_to_search_is_a_query_that_needs_the_read_scope():
    assert required_scope("POST", "partners", "/api/v1/partners/search") == "partners:read"
    assert required_scope("POST", "partners", "/api/v1/partners/1/search") == "partners:read"
    assert required_scope("POST", "partners", "/api/v1/partners/searches") == "partners:write"
    assert required_scope("PUT", "partners", "/api/v1/partners/search") == "partners:write"


def test_asking_for_a_risk_assessment_needs_the_assess_scope_and_nothing_else_does():
    assert required_scope("POST", "risk", "/api/v1/risk/assessments") == "risk:assess"
    assert required_scope("POST", "risk", "/api/v1/risk/assessments/") == "risk:assess"
    assert required_scope("GET", "risk", "/api/v1/risk/assessments") == "risk:read"
    assert required_scope("PUT", "risk", "/api/v1/risk/partners/1/limit") == "risk:write"
    assert required_scope("POST", "partners", "/api/v1/partners/assessments") == "partners:write"


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("", "/api/v1/auth/me"),  # a route that named no service
        ("auth", "/api/v1/partners/1"),  # a path outside the route's service
        ("auth", "/somewhere/else"),
        ("auth", "//api/v1/auth/me"),  # paths nginx would have normalised
        ("auth", "/api/v1/auth//me"),
        ("partners", "/api/v1/partners/../auth/me"),
        ("auth", "/api/v1/auth/./me"),
        ("Auth", "/api/v1/Auth/me"),
        ("auth/../partners", "/api/v1/auth/../partners/1"),
    ],
)
def test_a_route_auth_cannot_place_needs_no_scope_but_is_refused(service, path):
    assert required_scope("GET", service, path) is None


def test_a_limit_is_positive():
    with pytest.raises(InvalidInput):
        Limit(per_second=0, burst=1)
    with pytest.raises(InvalidInput):
        Limit(per_second=1, burst=0)
    with pytest.raises(InvalidInput):
        Limit(per_second=1, burst=1, per_day=0)
