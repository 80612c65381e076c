"""Ed25519 tokens across a key rotation: an old key verifies its tokens until they expire."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from mandi_auth.adapters.signer import Ed25519Signer
from mandi_security.fields import FieldCipher
from mandi_security.principal import Principal, PrincipalType
from mandi_security.tokens import TokenRejected

LIFETIME = timedelta(minutes=10)
# Real time: PyJWT checks expiry against the wall clock; the signer's clock only moves the keys.
START = datetime.now(UTC).replace(microsecond=0)


class _Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def _signer(clock: _Clock) -> Ed25519Signer:
    vault = FieldCipher({"k1": os.urandom(32)}, current="k1")
    return Ed25519Signer(
        vault, issuer="mandi-auth", audience="mandi", token_lifetime=LIFETIME, clock=clock
    )


PRINCIPAL = Principal(
    tenant_id=uuid4(), principal_id="u1", type=PrincipalType.INTERNAL, scopes=frozenset({"*"})
)


def test_tokens_of_a_replaced_key_verify_until_they_expire_and_the_key_then_leaves_jwks():
    clock = _Clock(START)
    signer = _signer(clock)
    old = signer.generate(START, START)
    signer.install([old])
    by_old_key = signer.issue(PRINCIPAL, uuid4(), START).value
    rotation = START + timedelta(minutes=5)
    new = signer.generate(rotation - timedelta(minutes=2), rotation)
    signer.install([old, new])
    clock.moment = rotation + timedelta(minutes=1)
    by_new_key = signer.issue(PRINCIPAL, uuid4(), clock.moment).value
    assert jwt.get_unverified_header(by_new_key)["kid"] == new[0].kid
    assert {key["kid"] for key in signer.jwks()["keys"]} == {old[0].kid, new[0].kid}
    assert signer.verify(by_old_key)["sub"] == "u1"  # still published after the rotation
    clock.moment = rotation + LIFETIME
    assert {key["kid"] for key in signer.jwks()["keys"]} == {new[0].kid}
    with pytest.raises(TokenRejected, match="signing key is unknown"):
        signer.verify(by_old_key)


def test_private_keys_are_stored_sealed():
    signer = _signer(_Clock(START))
    key, sealed = signer.generate(START, START)
    assert base64.b64encode(key.public_key) not in sealed
    signer.install([(key, sealed)])
    token = signer.issue(PRINCIPAL, uuid4(), START)
    assert signer.verify(token.value)["sub"] == "u1"
