"""Bodies of offers for end-to-end tests and benchmarks: cotton terms that fit the catalog they
define (`cotton_body`): 100 bales in lots of 10, delivered to Rajkot in January 2030."""

from __future__ import annotations

from typing import Any

__all__ = ["cotton_body", "offer_terms"]


def cotton_body(code: str = "cotton") -> dict[str, Any]:
    """A commodity definition of cotton under `code`."""
    return {
        "code": code,
        "name": "Cotton (lint)",
        "units": {"bale": "170", "candy": "355.6"},
        "price_unit": "candy",
        "grades": ["Shankar-6"],
        "quality": {"staple_length_mm": {"unit": "mm", "min": "22", "max": "38"}},
    }


def offer_terms(commodity: str = "cotton") -> dict[str, Any]:
    """An availability's or requirement's terms on that cotton."""
    return {
        "commodity": commodity,
        "grade": "Shankar-6",
        "quality": {"staple_length_mm": "29.5"},
        "quantity": "100",
        "unit": "bale",
        "minimum_lot": "10",
        "price": "56000.00",
        "currency": "INR",
        "place": {"latitude": 22.3, "longitude": 70.8, "state": "Gujarat", "city": "Rajkot"},
        "delivery_from": "2030-01-01",
        "delivery_to": "2030-01-15",
        "valid_until": "2030-01-01T00:00:00Z",
    }
