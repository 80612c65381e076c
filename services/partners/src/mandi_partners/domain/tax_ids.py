"""Tax identifiers: each kind validated by its format and, where one exists, its checksum.

India's PAN has a fixed shape whose fourth letter says what kind of holder it is (its last letter
is a check character, but the algorithm is not published, so only the shape is checked). A GSTIN
is a state code, the holder's PAN, an entity number, `Z` and a mod-36 check character. Other
countries' ids are checked where their checksum is public (EU VAT numbers of Germany, and the
ISO 7064 MOD 97-10 family); the rest by a plain shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mandi_errors import InvalidInput

__all__ = ["TaxId", "TaxIdKind", "gstin_check_character", "parse_tax_id"]

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PAN = re.compile(r"^[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]$")
_GSTIN = re.compile(r"^(?P<state>[0-9]{2})(?P<pan>[A-Z]{5}[0-9]{4}[A-Z])[1-9A-Z]Z[0-9A-Z]$")
_GST_STATES = frozenset({*range(1, 39), 97, 99})  # states and territories; 97 other, 99 centre
_GERMAN_VAT = re.compile(r"^DE[0-9]{9}$")
_OTHER = re.compile(r"^[A-Z0-9][A-Z0-9 ./-]{3,28}[A-Z0-9]$")
_MASK_KEEP = 4


class TaxIdKind(StrEnum):
    """What a tax identifier is."""

    PAN = "pan"  # India, permanent account number
    GSTIN = "gstin"  # India, goods and services tax registration
    VAT = "vat"  # an EU VAT number, with its country prefix
    OTHER = "other"  # another country's id, checked for shape only


@dataclass(frozen=True)
class TaxId:
    """A validated tax identifier in its canonical form (upper case, no spaces)."""

    kind: TaxIdKind
    country: str
    value: str

    @property
    def masked(self) -> str:
        """What may be shown to someone without the right to see the whole id."""
        return "•" * (len(self.value) - _MASK_KEEP) + self.value[-_MASK_KEEP:]

    @property
    def embedded_pan(self) -> str | None:
        """The PAN inside a GSTIN (a GSTIN belongs to exactly one PAN holder)."""
        return self.value[2:12] if self.kind is TaxIdKind.GSTIN else None


def gstin_check_character(first_fourteen: str) -> str:
    """The GSTIN check character: Luhn mod 36 over the first 14 characters."""
    total = 0
    for position, character in enumerate(first_fourteen):
        product = _BASE36.index(character) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _BASE36[(36 - total % 36) % 36]


def _german_vat_valid(value: str) -> bool:
    # ISO 7064 MOD 11,10 over the first eight digits; the ninth is the check digit.
    product = 10
    for digit in value[2:10]:
        total = (int(digit) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10 == int(value[10])


def _canonical(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def _pan(value: str) -> TaxId:
    if not _PAN.match(value):
        raise InvalidInput("A PAN is 5 letters (the 4th the holder type), 4 digits, 1 letter.")
    return TaxId(TaxIdKind.PAN, "IN", value)


def _gstin(value: str) -> TaxId:
    match = _GSTIN.match(value)
    if not match or int(match["state"]) not in _GST_STATES:
        raise InvalidInput("A GSTIN is a state code, a PAN, an entity number, Z and a check.")
    _pan(match["pan"])
    if gstin_check_character(value[:14]) != value[14]:
        raise InvalidInput("The GSTIN's check character is wrong: it is mistyped.")
    return TaxId(TaxIdKind.GSTIN, "IN", value)


def _vat(country: str, value: str) -> TaxId:
    if not value.startswith(country):
        raise InvalidInput("A VAT number starts with its country's code.")
    if country == "DE" and not (_GERMAN_VAT.match(value) and _german_vat_valid(value)):
        raise InvalidInput("The German VAT number's check digit is wrong: it is mistyped.")
    if not _OTHER.match(value):
        raise InvalidInput("A VAT number is 5 to 30 letters and digits.")
    return TaxId(TaxIdKind.VAT, country, value)


def _other(country: str, value: str) -> TaxId:
    if not _OTHER.match(value):
        raise InvalidInput("A tax id is 5 to 30 letters, digits, spaces, dots, slashes or dashes.")
    return TaxId(TaxIdKind.OTHER, country, value)


def parse_tax_id(kind: TaxIdKind, country: str, value: str) -> TaxId:
    """A validated tax id; InvalidInput says what is wrong (never echoing the value)."""
    country = country.upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput("A country is its ISO 3166-1 alpha-2 code.")
    canonical = _canonical(value)
    if kind in (TaxIdKind.PAN, TaxIdKind.GSTIN) and country != "IN":
        raise InvalidInput(f"A {kind.value.upper()} is an Indian tax id: its country is IN.")
    if kind is TaxIdKind.PAN:
        return _pan(canonical)
    if kind is TaxIdKind.GSTIN:
        return _gstin(canonical)
    if kind is TaxIdKind.VAT:
        return _vat(country, canonical)
    return _other(country, value.strip().upper())
