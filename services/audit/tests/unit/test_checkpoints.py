"""Signed checkpoints: the published vector, signatures that fail on any change, key rotation,
and the JWKS a partner downloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from mandi_audit.domain.checkpoints import (
    CHECKPOINT_MESSAGE,
    CheckpointSigner,
    jwk_of,
    public_keys_of,
    signed_message,
)

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "chain-v1.json").read_text(encoding="utf-8")
)
VECTOR: dict[str, Any] = VECTORS["checkpoints"][0]
TENANT = UUID("6f1d3c2a-9b84-4e57-a0c1-5d2e8f7b3a90")
HEAD = bytes.fromhex("1fd3c293bd3944135bfd566cf30ffe0826a1ae9239068650585e48c3300c6844")
SIGNED_AT = datetime(2026, 3, 3, 0, 0, 5, 250, tzinfo=UTC)
OLD_SEED, NEW_SEED = bytes(range(32)), bytes(range(100, 132))


def published(signer: CheckpointSigner) -> dict[str, Any]:
    """The key set as `GET /api/v1/audit/keys` serves it, through JSON text."""
    keys = [jwk_of(key_id, raw) for key_id, raw in signer.public_keys().items()]
    return json.loads(json.dumps({"keys": keys}))


def test_the_vector_checkpoint_is_reproduced_byte_for_byte():
    signer = CheckpointSigner({VECTOR["key_id"]: bytes.fromhex(VECTOR["seed_hex"])})
    moment = datetime.fromisoformat(VECTOR["signed_at"])
    head = bytes.fromhex(VECTOR["hash"])
    tenant = UUID(VECTOR["tenant_id"])
    assert signed_message(tenant, VECTOR["seq"], head, moment).hex() == VECTOR["signed_message"]
    checkpoint = signer.sign(tenant, VECTOR["seq"], head, moment)
    assert checkpoint.signature.hex() == VECTOR["signature_hex"]
    assert signer.public_keys()[VECTOR["key_id"]].hex() == VECTOR["public_key_hex"]
    assert published(signer) == {"keys": [VECTOR["jwk"]]}


def test_a_checkpoint_verifies_with_the_published_keys():
    signer = CheckpointSigner({"audit-2026-01": OLD_SEED})
    checkpoint = signer.sign(TENANT, 3, HEAD, SIGNED_AT)
    assert checkpoint.key_id == "audit-2026-01"
    assert checkpoint.verifies_with(public_keys_of(published(signer)))


def test_a_checkpoint_does_not_verify_with_another_key_of_the_same_id():
    checkpoint = CheckpointSigner({"audit-2026-01": OLD_SEED}).sign(TENANT, 3, HEAD, SIGNED_AT)
    impostor = CheckpointSigner({"audit-2026-01": NEW_SEED})
    assert not checkpoint.verifies_with(public_keys_of(published(impostor)))


def test_a_checkpoint_whose_key_is_not_published_does_not_verify():
    checkpoint = CheckpointSigner({"audit-2026-01": OLD_SEED}).sign(TENANT, 3, HEAD, SIGNED_AT)
    assert not checkpoint.verifies_with({})


@pytest.mark.parametrize(
    "change",
    [
        {"tenant_id": UUID("c3a8e5f1-2d4b-4a69-8e17-0f9b6d2c4e83")},
        {"seq": 4},
        {"hash": bytes([HEAD[0] ^ 1]) + HEAD[1:]},
        {"signed_at": SIGNED_AT + timedelta(microseconds=1)},
        {"key_id": "audit-2026-01"},  # the other published key
    ],
    ids=["tenant", "seq", "hash", "signed_at", "key_id"],
)
def test_a_checkpoint_with_any_field_altered_does_not_verify(change):
    signer = CheckpointSigner({"audit-2026-01": OLD_SEED, "audit-2026-02": NEW_SEED})
    checkpoint = signer.sign(TENANT, 3, HEAD, SIGNED_AT)
    public_keys = public_keys_of(published(signer))
    assert checkpoint.verifies_with(public_keys)
    assert replace(checkpoint, **change) != checkpoint
    assert not replace(checkpoint, **change).verifies_with(public_keys)


def test_a_checkpoint_with_any_bit_of_its_signature_flipped_does_not_verify():
    signer = CheckpointSigner({"audit-2026-01": OLD_SEED})
    checkpoint = signer.sign(TENANT, 3, HEAD, SIGNED_AT)
    public_keys = public_keys_of(published(signer))
    for bit in range(len(checkpoint.signature) * 8):
        signature = bytearray(checkpoint.signature)
        signature[bit // 8] ^= 1 << (bit % 8)
        assert not replace(checkpoint, signature=bytes(signature)).verifies_with(public_keys)


def test_after_a_rotation_the_new_key_signs_and_old_checkpoints_still_verify():
    before = CheckpointSigner({"audit-2026-01": OLD_SEED})
    old_checkpoint = before.sign(TENANT, 3, HEAD, SIGNED_AT)
    after = CheckpointSigner({"audit-2026-01": OLD_SEED, "audit-2026-02": NEW_SEED})
    new_checkpoint = after.sign(TENANT, 9, HEAD, SIGNED_AT + timedelta(days=30))

    assert new_checkpoint.key_id == "audit-2026-02"
    public_keys = public_keys_of(published(after))
    assert set(public_keys) == {"audit-2026-01", "audit-2026-02"}
    assert old_checkpoint.verifies_with(public_keys)
    assert new_checkpoint.verifies_with(public_keys)
    assert not new_checkpoint.verifies_with(public_keys_of(published(before)))


def test_a_jwk_is_an_okp_ed25519_key_with_an_unpadded_base64url_x():
    jwk = jwk_of("audit-2026-01", bytes(range(32)))
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": "audit-2026-01",
        "x": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "alg": "EdDSA",
        "use": "sig",
    }


VALID_X = jwk_of("k", bytes(32))["x"]


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"keys": {}},
        {"key": []},
        {"keys": ["not a key"]},
        {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": VALID_X}]},
        {"keys": [{"kty": "OKP", "crv": "X25519", "kid": "k", "x": VALID_X}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": VALID_X}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": 1, "x": VALID_X}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": VALID_X[:-4]}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": VALID_X + "AAAA"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": "A"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": "é" * 43}]},
    ],
)
def test_a_document_that_is_not_an_ed25519_key_set_is_refused(document):
    with pytest.raises(ValueError):  # noqa: PT011 (each refusal has its own message)
        public_keys_of(document)


def test_the_signer_needs_a_key():
    with pytest.raises(ValueError, match="at least one"):
        CheckpointSigner({})


def test_sign_bytes_signs_with_the_current_key():
    signer = CheckpointSigner({"audit-2026-01": OLD_SEED, "audit-2026-02": NEW_SEED})
    key_id, signature = signer.sign_bytes(b"mandi-audit-export/1\n" + bytes(32))
    assert key_id == "audit-2026-02"
    public_keys_of(published(signer))[key_id].verify(
        signature, b"mandi-audit-export/1\n" + bytes(32)
    )


def test_sign_bytes_will_not_sign_a_checkpoint_message():
    signer = CheckpointSigner({"audit-2026-01": OLD_SEED})
    with pytest.raises(ValueError, match="checkpoints"):
        signer.sign_bytes(signed_message(TENANT, 3, HEAD, SIGNED_AT))
    with pytest.raises(ValueError, match="checkpoints"):
        signer.sign_bytes(CHECKPOINT_MESSAGE)
