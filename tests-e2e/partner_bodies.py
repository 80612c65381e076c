"""Bodies of partner registrations for end-to-end tests: new companies with valid tax ids."""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

from mandi_partners.domain.tax_ids import gstin_check_character

__all__ = ["gstin_of", "new_pan", "new_partner_body"]

_LETTERS = string.ascii_uppercase


def _letters(count: int) -> str:
    return "".join(secrets.choice(_LETTERS) for _ in range(count))


def new_pan(digits: str | None = None) -> str:
    """A well-formed company PAN (4th letter C); the fake verifier fails digits 0000."""
    number = digits or str(1000 + secrets.randbelow(8999))
    return f"{_letters(3)}C{_letters(1)}{number}{_letters(1)}"


def gstin_of(pan: str, state: str = "27") -> str:
    """A GSTIN of this PAN, with its correct check character."""
    first_fourteen = f"{state}{pan}1Z"
    return first_fourteen + gstin_check_character(first_fourteen)


def new_partner_body(**changes: Any) -> dict[str, Any]:
    """A registration with a PAN, its GSTIN, a director and a warehouse."""
    pan = changes.pop("pan", None) or new_pan()
    suffix = uuid.uuid4().hex[:8]
    body = {
        "legal_name": f"Acme Agro {suffix} Pvt Ltd",
        "trade_name": f"Acme {suffix}",
        "country": "IN",
        "types": ["seller", "trader"],
        "tax_ids": [
            {"kind": "pan", "country": "IN", "value": pan},
            {"kind": "gstin", "country": "IN", "value": gstin_of(pan)},
        ],
        "contacts": [
            {
                "name": f"Asha Rao {suffix}",
                "email": f"asha.{suffix}@acme-agro.example",
                "phone": f"+9198{secrets.randbelow(10**8):08d}",
                "is_director": True,
            }
        ],
        "locations": [
            {
                "label": "Warehouse",
                "address": "Plot 4, APMC Yard, Vashi, Navi Mumbai",
                "country": "IN",
                "latitude": 19.07,
                "longitude": 73.0,
            }
        ],
    }
    return body | changes
