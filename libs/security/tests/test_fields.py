"""Field encryption and blind indexes."""

from __future__ import annotations

import base64
import os
from uuid import UUID, uuid4

import pytest
from cryptography.exceptions import InvalidTag

from mandi_security import BlindIndex, FieldCipher, SealedField, keyring_from_setting

OLD, NEW = os.urandom(32), os.urandom(32)
TENANT, OTHER_TENANT = uuid4(), uuid4()
ROW, OTHER_ROW = uuid4(), uuid4()

# Made by the format-1 cipher (bound to the column only), as databases hold them today:
# key "2025-01" = bytes 0..31, column "partner_tax_ids.value", value "ABCDE1234F".
FORMAT_1_KEY = ("2025-01", bytes(range(32)))
FORMAT_1_TAX_ID = bytes.fromhex(
    "0107323032352d3031d296f7d9a159a249a1aaa07d023472ec0cf057d2452953fcae01ea21a1c11cef6ad3e50cde74"
)


def _field(column: str = "partner_tax_ids.value", tenant: UUID | None = TENANT, row: UUID = ROW):
    return SealedField.of(column, tenant, row)


def test_a_value_round_trips_and_the_ciphertext_hides_it() -> None:
    cipher = FieldCipher({"2026-01": OLD}, current="2026-01")
    email = _field("users.email")
    sealed = cipher.encrypt("ravi.kumar@example.com", context=email)
    assert b"ravi" not in sealed
    assert b"example" not in sealed
    assert cipher.decrypt(sealed, context=email) == "ravi.kumar@example.com"
    assert sealed != cipher.encrypt("ravi.kumar@example.com", context=email), "random nonce"


def test_a_ciphertext_altered_does_not_decrypt() -> None:
    cipher = FieldCipher({"k": OLD}, current="k")
    sealed = cipher.encrypt("ABCDE1234F", context=_field())
    with pytest.raises(InvalidTag):
        cipher.decrypt(sealed[:-1] + bytes([sealed[-1] ^ 1]), context=_field())


@pytest.mark.parametrize(
    "elsewhere",
    [
        _field(column="partner_contacts.name"),
        _field(row=OTHER_ROW),
        _field(tenant=OTHER_TENANT),
        _field(tenant=None),
    ],
    ids=["another column", "another row", "another tenant", "no tenant"],
)
def test_a_ciphertext_moved_elsewhere_does_not_decrypt(elsewhere: SealedField) -> None:
    cipher = FieldCipher({"k": OLD}, current="k")
    sealed = cipher.encrypt("ABCDE1234F", context=_field())
    with pytest.raises(InvalidTag):
        cipher.decrypt(sealed, context=elsewhere)


def test_a_tenantless_value_is_bound_to_its_row() -> None:
    vault = FieldCipher({"k": OLD}, current="k")
    sealed = vault.encrypt("private", context=SealedField.of("signing_keys.key", None, "kid-1"))
    assert vault.decrypt(sealed, context=SealedField.of("signing_keys.key", None, "kid-1"))
    with pytest.raises(InvalidTag):
        vault.decrypt(sealed, context=SealedField.of("signing_keys.key", None, "kid-2"))


@pytest.mark.parametrize(
    ("bound", "other"),
    [
        (SealedField("a", None, ("b|c",)), SealedField("a", None, ("b", "c"))),
        (SealedField("a.b", None, ("c",)), SealedField("a", None, ("b.c",))),
        (SealedField("a", None, ("bc",)), SealedField("a", None, ("b", "c"))),
        (SealedField("a", None, (str(TENANT), "x")), SealedField("a", TENANT, ("x",))),
    ],
    ids=["delimiter in a key part", "dot in the column", "split key", "tenant as a key part"],
)
def test_no_context_can_pass_for_another(bound: SealedField, other: SealedField) -> None:
    assert bound.associated_data() != other.associated_data()
    cipher = FieldCipher({"k": OLD}, current="k")
    with pytest.raises(InvalidTag):
        cipher.decrypt(cipher.encrypt("secret", context=bound), context=other)


def test_a_field_names_its_column_and_row() -> None:
    with pytest.raises(ValueError, match="column and its row"):
        SealedField("users.email", TENANT, ())
    with pytest.raises(TypeError, match="UUID"):
        SealedField("users.email", str(TENANT), ("x",))  # type: ignore[arg-type]


def test_rotation_keeps_old_ciphertexts_readable_and_names_them() -> None:
    phone = _field("c.phone")
    before = FieldCipher({"old": OLD}, current="old").encrypt("9876543210", context=phone)
    after = FieldCipher({"old": OLD, "new": NEW}, current="new")
    assert after.decrypt(before, context=phone) == "9876543210"
    assert after.needs_rotation(before)
    resealed = after.reseal(before, context=phone)
    assert not after.needs_rotation(resealed)
    assert FieldCipher({"new": NEW}, current="new").decrypt(resealed, context=phone) == "9876543210"


def test_format_1_ciphertexts_open_with_their_column_and_need_rotation() -> None:
    key_id, key = FORMAT_1_KEY
    cipher = FieldCipher({key_id: key}, current=key_id)  # the same key is still current
    stored = _field("partner_tax_ids.value")
    assert cipher.decrypt(FORMAT_1_TAX_ID, context=stored) == "ABCDE1234F"
    with pytest.raises(InvalidTag):
        cipher.decrypt(FORMAT_1_TAX_ID, context=_field("partner_contacts.name"))
    assert cipher.needs_rotation(FORMAT_1_TAX_ID)
    upgraded = cipher.reseal(FORMAT_1_TAX_ID, context=stored)
    assert not cipher.needs_rotation(upgraded)
    assert cipher.decrypt(upgraded, context=stored) == "ABCDE1234F"
    with pytest.raises(InvalidTag):
        cipher.decrypt(upgraded, context=_field(row=OTHER_ROW))


def test_an_unknown_format_or_key_is_refused() -> None:
    cipher = FieldCipher({"k": OLD}, current="k")
    sealed = cipher.encrypt("x", context=_field())
    with pytest.raises(ValueError, match="known version"):
        cipher.decrypt(bytes([9]) + sealed[1:], context=_field())
    with pytest.raises(ValueError, match="no key"):
        FieldCipher({"j": NEW}, current="j").decrypt(sealed, context=_field())


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
