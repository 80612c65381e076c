"""API keys: their format and checksum, their life, and who may shape them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from mandi_auth.domain.api_keys import (
    ApiKey,
    KeyMaterial,
    limit_settable,
    parse_key,
    scopes_grantable,
)
from mandi_auth.domain.limits import Limit, Plan
from mandi_errors import InvalidInput, PermissionDenied
from mandi_security.principal import Principal, PrincipalType

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
TENANT, PARTNER = uuid4(), uuid4()


def _principal(kind=PrincipalType.INTERNAL, scopes=("*",), partner=None, tenant=TENANT):
    return Principal(
        tenant_id=tenant,
        principal_id="someone",
        type=kind,
        partner_id=partner,
        scopes=frozenset(scopes),
    )


def _key(**changes):
    fields = {
        "id": uuid4(),
        "tenant_id": TENANT,
        "partner_id": PARTNER,
        "name": "erp",
        "scopes": frozenset({"matching:read"}),
        "secret_hash": "h",
        "visible_prefix": "mandi_live_x",
        "created_by": "someone",
        "created_at": NOW,
    }
    return ApiKey(**(fields | changes))


def test_a_key_parses_back_to_its_id_and_secret():
    material = KeyMaterial.generate("live")
    parsed = parse_key(material.value)
    assert parsed == material
    assert material.value.startswith("mandi_live_")
    assert material.visible_prefix == material.value[: len("mandi_live_") + 8]


def test_test_keys_carry_their_own_prefix():
    assert KeyMaterial.generate("test").value.startswith("mandi_test_")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"),  # checksum typo
        lambda v: v[:20] + ("a" if v[20] != "a" else "b") + v[21:],  # body typo
        lambda v: v.replace("mandi_live_", "mandi_prod_"),
        lambda v: v + "0",
        lambda v: v[:-1] + "-",
        lambda _: "",
    ],
)
def test_a_mistyped_or_made_up_key_is_refused_without_a_lookup(mangle):
    assert parse_key(mangle(KeyMaterial.generate("live").value)) is None


def test_a_key_carries_no_scope_beyond_its_issuer():
    operator = _principal(scopes=("matching:read", "partners:write"))
    assert scopes_grantable(operator, frozenset({"matching:read"})) == {"matching:read"}
    with pytest.raises(PermissionDenied, match="auth:write"):
        scopes_grantable(operator, frozenset({"matching:read", "auth:write"}))
    with pytest.raises(InvalidInput):
        scopes_grantable(operator, frozenset())


def test_only_operator_staff_set_a_key_own_limit():
    own = Limit(per_second=5, burst=5)
    assert limit_settable(_principal(), own) == own
    partner_admin = _principal(PrincipalType.EXTERNAL, ("auth:write",), partner=PARTNER)
    assert limit_settable(partner_admin, None) is None
    with pytest.raises(PermissionDenied):
        limit_settable(partner_admin, own)


def test_a_key_own_limit_wins_over_its_plan():
    plan = Plan("standard", Limit(per_second=20, burst=40))
    assert _key().limit_under(plan) == plan.limit
    own = Limit(per_second=1, burst=1, per_day=10)
    assert _key(limit=own).limit_under(plan) == own


def test_a_key_is_valid_until_it_expires_or_is_revoked():
    key = _key(expires_at=NOW + timedelta(hours=1))
    assert key.is_valid_at(NOW)
    assert not key.is_valid_at(NOW + timedelta(hours=1))
    key.revoke(NOW)
    assert not key.is_valid_at(NOW)
    key.revoke(NOW + timedelta(minutes=5))
    assert key.revoked_at == NOW  # the first revocation stands


def test_rotation_keeps_the_old_key_for_the_overlap_but_never_past_its_expiry():
    successor = uuid4()
    open_ended = _key()
    assert open_ended.end_after_overlap(NOW, timedelta(hours=24), successor) == NOW + timedelta(
        hours=24
    )
    assert open_ended.replaced_by == successor
    expiring = _key(expires_at=NOW + timedelta(hours=1))
    assert expiring.end_after_overlap(NOW, timedelta(hours=24), successor) == NOW + timedelta(
        hours=1
    )


def test_a_partner_key_acts_as_an_external_principal_of_that_partner():
    principal = _key().principal()
    assert principal.type is PrincipalType.EXTERNAL
    assert principal.partner_id == PARTNER
    assert principal.scopes == {"matching:read"}
    assert _key(partner_id=None).principal().type is PrincipalType.INTERNAL


def test_who_manages_a_key():
    key = _key()
    assert key.manageable_by(_principal())
    assert key.manageable_by(_principal(PrincipalType.EXTERNAL, partner=PARTNER))
    assert not key.manageable_by(_principal(PrincipalType.EXTERNAL, partner=uuid4()))
    assert not key.manageable_by(_principal(tenant=uuid4()))


def test_a_key_needs_a_name():
    with pytest.raises(InvalidInput):
        _key(name="  ")
