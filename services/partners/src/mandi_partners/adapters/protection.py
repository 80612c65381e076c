"""Sealing and blind-indexing personal and tax data before it reaches a table.

Every sealed value is bound to its column, its tenant and its row (the AEAD's associated data),
so a ciphertext copied into another column, row or tenant does not open. Each indexed column has
its own index key: equal emails and equal phones cannot be linked through their indexes, and a
leaked index key exposes one column.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mandi_partners.domain.tax_ids import TaxId
from mandi_security.fields import BlindIndex, FieldCipher, SealedField

__all__ = ["Column", "PiiProtection", "answer_field", "fingerprint"]

_FINGERPRINT_BYTES = 16


class Column:
    """The sealed columns, named as the AEAD context they are bound to."""

    TAX_ID = "partner_tax_ids.value"
    NAME = "partner_contacts.name"
    EMAIL = "partner_contacts.email"
    PHONE = "partner_contacts.phone"
    ANSWER = "idempotency_keys.response"


def answer_field(tenant_id: UUID, principal_id: str, key: str) -> SealedField:
    """Where a stored idempotent answer belongs: its tenant and its row (principal and key)."""
    return SealedField.of(Column.ANSWER, tenant_id, principal_id, key)


@dataclass(frozen=True)
class PiiProtection:
    """The field cipher and one blind index per indexed column."""

    cipher: FieldCipher
    tax_id_index: BlindIndex
    email_index: BlindIndex
    phone_index: BlindIndex

    def seal(self, value: str, field: SealedField) -> bytes:
        """The ciphertext stored for a value in `field`."""
        return self.cipher.encrypt(value, context=field)

    def open(self, sealed: bytes, field: SealedField) -> str:
        """The value a ciphertext of `field` holds; raises if it was made for another field."""
        return self.cipher.decrypt(sealed, context=field)

    def seal_optional(self, value: str | None, field: SealedField) -> bytes | None:
        """The ciphertext, or None for no value."""
        return None if value is None else self.seal(value, field)

    def open_optional(self, sealed: bytes | None, field: SealedField) -> str | None:
        """The value, or None when nothing was stored."""
        return None if sealed is None else self.open(sealed, field)

    def tax_id_key(self, tax_id: TaxId) -> bytes:
        """The blind index of a tax id (kind and country included: one number, one kind)."""
        return self.tax_id_index(f"{tax_id.kind.value}:{tax_id.country}:{tax_id.value}")

    def email_key(self, email: str | None) -> bytes | None:
        """The blind index of a normalized email."""
        return None if email is None else self.email_index(email)

    def phone_key(self, phone: str | None) -> bytes | None:
        """The blind index of a normalized phone number."""
        return None if phone is None else self.phone_index(phone)


def fingerprint(kind: str, index: bytes) -> str:
    """A person's identifier in the insider-trading rule and its events: a truncated index."""
    return f"{kind}:{index[:_FINGERPRINT_BYTES].hex()}"
