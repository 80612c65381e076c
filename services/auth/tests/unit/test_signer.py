"""Ed25519 tokens across a key rotation: an old key verifies its tokens until they expire."""

from __future__ import annotations

import base64
import os
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest
from cryptography.exceptions import InvalidTag

from mandi_auth.adapters import signer as signer_module
from mandi_auth.adapters.signer import Ed25519Signer
from mandi_security.fields import FieldCipher
from mandi_security.principal import Principal, PrincipalType
from mandi_security.tokens import TokenRejected, decode_access_token

LIFETIME = timedelta(minutes=10)
# Real time: PyJWT checks expiry against the wall clock; the signer's clock only moves the keys.
START = datetime.now(UTC).replace(microsecond=0)


class _Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def _signer(clock: _Clock, vault: FieldCipher | None = None) -> Ed25519Signer:
    vault = vault or FieldCipher({"k1": os.urandom(32)}, current="k1")
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


def test_a_private_key_sealed_for_one_kid_does_not_install_under_another():
    signer = _signer(_Clock(START))
    (first, first_sealed), (second, _) = (
        signer.generate(START, START),
        signer.generate(START, START),
    )
    with pytest.raises(InvalidTag):
        signer.install([(first, first_sealed), (second, first_sealed)])


def test_a_new_key_encryption_key_reseals_private_keys_and_the_old_one_can_go():
    old, new = os.urandom(32), os.urandom(32)
    before = _signer(_Clock(START), FieldCipher({"k1": old}, current="k1"))
    key, sealed = before.generate(START, START)
    rotating = _signer(_Clock(START), FieldCipher({"k1": old, "k2": new}, current="k2"))
    resealed = rotating.reseal(key.kid, sealed)
    assert resealed is not None
    assert rotating.reseal(key.kid, resealed) is None  # nothing left to do
    after = _signer(_Clock(START), FieldCipher({"k2": new}, current="k2"))
    after.install([(key, resealed)])
    assert after.verify(after.issue(PRINCIPAL, uuid4(), START).value)["sub"] == "u1"


def test_a_token_is_verified_once_and_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = _signer(_Clock(START))
    signer.install([signer.generate(START, START)])
    token = signer.issue(PRINCIPAL, uuid4(), START).value
    verified = []

    def counting(*args: object, **kwargs: object) -> dict[str, object]:
        verified.append(args[0])
        return decode_access_token(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(signer_module, "decode_access_token", counting)
    claims = [signer.verify(token) for _ in range(3)]
    assert verified == [token]
    assert all(each["sub"] == "u1" for each in claims)
    claims[0]["sub"] = "someone else"  # a caller's change is not remembered
    assert signer.verify(token)["sub"] == "u1"


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    clock = _Clock(START)
    signer = Ed25519Signer(
        FieldCipher({"k1": os.urandom(32)}, current="k1"),
        issuer="mandi-auth",
        audience="mandi",
        token_lifetime=LIFETIME,
        clock=clock,
        leeway_seconds=0,
    )
    # Expires within two seconds of real time: PyJWT and the memory both read the wall clock.
    issued = datetime.now(UTC) - LIFETIME + timedelta(seconds=1)
    signer.install([signer.generate(issued, issued)])
    token = signer.issue(PRINCIPAL, uuid4(), issued).value
    assert signer.verify(token)["sub"] == "u1"
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires_at - time.time()) + 0.2)
    with pytest.raises(TokenRejected) as refused:
        signer.verify(token)
    assert refused.value.reason == "expired_token"


def test_a_forged_copy_of_a_remembered_token_is_refused() -> None:
    signer = _signer(_Clock(START))
    signer.install([signer.generate(START, START)])
    token = signer.issue(PRINCIPAL, uuid4(), START).value
    signer.verify(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(TokenRejected):
        signer.verify(forged)
