"""Access tokens: what verifies and what is refused, and the JWKS cache behind verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mandi_security import (
    JwksVerifier,
    Principal,
    PrincipalResolver,
    PrincipalType,
    TokenRejected,
    decode_access_token,
    principal_claims,
    principal_from_claims,
)

ISSUER, AUDIENCE = "mandi-auth", "mandi"
KEY, OTHER_KEY = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
OPERATOR = Principal(
    tenant_id=uuid4(),
    principal_id="user-7",
    type=PrincipalType.INTERNAL,
    scopes=frozenset({"*"}),
    roles=frozenset({"admin"}),
)


def _token(
    key: Ed25519PrivateKey = KEY, kid: str = "k1", lifetime: timedelta = timedelta(minutes=5)
) -> str:
    now = datetime.now(UTC)
    claims = principal_claims(
        OPERATOR,
        session_id=uuid4(),
        token_id=uuid4(),
        issuer=ISSUER,
        audience=AUDIENCE,
        issued_at=now - timedelta(minutes=1),
        expires_at=now + lifetime,
    )
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def _decode(token: str) -> dict[str, object]:
    keys = {"k1": KEY.public_key()}
    return decode_access_token(token, keys.get, issuer=ISSUER, audience=AUDIENCE)


def test_a_valid_token_gives_back_its_principal() -> None:
    assert principal_from_claims(_decode(_token())) == OPERATOR


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused() -> None:
    claims = jwt.decode(_token(), options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'kid': 'k1'})}.{_b64(claims)}."
    with pytest.raises(TokenRejected) as refused:
        _decode(unsigned)
    assert refused.value.reason == "invalid_token"


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(_token(), options={"verify_signature": False})
    forged = f"{_b64({'alg': 'HS256', 'kid': 'k1'})}.{_b64(claims)}"
    signature = hmac.new(public_pem, forged.encode(), hashlib.sha256).digest()
    forged += "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(TokenRejected):
        _decode(forged)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: _token(key=OTHER_KEY), "invalid_token"),
        (lambda: _token(kid="unknown"), "invalid_token"),
        (lambda: _token(lifetime=timedelta(minutes=-1)), "expired_token"),
        (lambda: "not.a.token", "invalid_token"),
        (lambda: _token()[:-4] + "AAAA", "invalid_token"),
    ],
)
def test_forged_expired_and_malformed_tokens_are_refused(token: object, reason: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        _decode(token())  # type: ignore[operator]
    assert refused.value.reason == reason


def _jwks_app(published: dict[str, Ed25519PrivateKey], fetches: list[int]) -> Starlette:
    async def jwks(_request: Request) -> JSONResponse:
        fetches.append(1)
        keys = [
            {**json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key())), "kid": kid}
            for kid, key in published.items()
        ]
        return JSONResponse({"keys": keys})

    return Starlette(routes=[Route("/.well-known/jwks.json", jwks)])


async def test_the_verifier_fetches_keys_once_and_again_after_a_rotation() -> None:
    published = {"k1": KEY}
    fetches: list[int] = []
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_jwks_app(published, fetches)), base_url="http://auth"
    )
    verifier = JwksVerifier(
        "http://auth/.well-known/jwks.json",
        issuer=ISSUER,
        audience=AUDIENCE,
        http=http,
        min_refetch_seconds=0,
    )
    try:
        for _ in range(3):
            assert (await verifier.verify(_token()))["sub"] == "user-7"
        assert len(fetches) == 1, "keys are cached"

        published["k2"] = OTHER_KEY  # the auth service rotated its signing key
        assert (await verifier.verify(_token(key=OTHER_KEY, kid="k2")))["sub"] == "user-7"
        assert len(fetches) == 2
    finally:
        await verifier.close()


async def test_unknown_key_ids_do_not_turn_into_a_stream_of_fetches() -> None:
    fetches: list[int] = []
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_jwks_app({"k1": KEY}, fetches)), base_url="http://auth"
    )
    verifier = JwksVerifier(
        "http://auth/.well-known/jwks.json",
        issuer=ISSUER,
        audience=AUDIENCE,
        http=http,
        min_refetch_seconds=60,
    )
    try:
        for n in range(5):
            with pytest.raises(TokenRejected):
                await verifier.verify(_token(key=OTHER_KEY, kid=f"forged-{n}"))
        assert len(fetches) == 1
    finally:
        await verifier.close()


async def test_a_service_called_directly_accepts_a_verified_bearer_token() -> None:
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_jwks_app({"k1": KEY}, [])), base_url="http://auth"
    )
    verifier = JwksVerifier(
        "http://auth/.well-known/jwks.json", issuer=ISSUER, audience=AUDIENCE, http=http
    )
    resolver = PrincipalResolver(gateway_secret="gw", verifier=verifier)
    try:
        assert await resolver.resolve({"authorization": f"Bearer {_token()}"}) == OPERATOR
        with pytest.raises(TokenRejected):
            await resolver.resolve({"authorization": f"Bearer {_token(key=OTHER_KEY)}"})
    finally:
        await verifier.close()
