"""Field encryption and blind indexes."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from mandi_security import BlindIndex, FieldCipher, keyring_from_setting

OLD, NEW = os.urandom(32), os.urandom(32)


def test_a_value_round_trips_and_the_ciphertext_hides_it() -> None:
    cipher = FieldCipher({"2026-01": OLD}, current="2026-01")
    sealed = cipher.encrypt("ravi.kumar@example.com", context="users.email")
    assert b"ravi" not in sealed
    assert b"example" not in sealed
    assert cipher.decrypt(sealed, context="users.email") == "ravi.kumar@example.com"
    assert sealed != cipher.encrypt("ravi.kumar@example.com", context="users.email"), "random nonce"


def test_a_ciphertext_moved_to_another_column_or_altered_does_not_decrypt() -> None:
    cipher = FieldCipher({"k": OLD}, current="k")
    sealed = cipher.encrypt("ABCDE1234F", context="partners.pan")
    with pytest.raises(InvalidTag):
        cipher.decrypt(sealed, context="partners.gstin")
    with pytest.raises(InvalidTag):
        cipher.decrypt(sealed[:-1] + bytes([sealed[-1] ^ 1]), context="partners.pan")


def test_rotation_keeps_old_ciphertexts_readable_and_names_them() -> None:
    before = FieldCipher({"old": OLD}, current="old").encrypt("9876543210", context="c.phone")
    after = FieldCipher({"old": OLD, "new": NEW}, current="new")
    assert after.decrypt(before, context="c.phone") == "9876543210"
    assert after.needs_rotation(before)
    assert not after.needs_rotation(after.encrypt("9876543210", context="c.phone"))


def test_a_keyring_comes_from_its_setting_and_refuses_short_keys() -> None:
    setting = f"a:{base64.b64encode(OLD).decode()}, b:{base64.b64encode(NEW).decode()}"
    assert keyring_from_setting(setting) == {"a": OLD, "b": NEW}
    with pytest.raises(ValueError, match="32 bytes"):
        keyring_from_setting("a:" + base64.b64encode(b"short").decode())


def test_a_blind_index_is_stable_and_keyed() -> None:
    index, other = BlindIndex(OLD), BlindIndex(NEW)
    assert index("ravi@example.com") == index("ravi@example.com")
    assert index("ravi@example.com") != index("ravi@example.org")
    assert index("ravi@example.com") != other("ravi@example.com")
