"""A commodity as a JSON-able document: its table row's values, and what the cache holds.

Unit sizes and quality bounds are exact decimals written as strings, so a commodity read back
is the one written, to the last digit.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mandi_availability.domain.catalog import Commodity, QualityParameter
from mandi_availability.domain.quantities import UnitTable

__all__ = ["commodity_document", "commodity_from"]


def commodity_document(commodity: Commodity) -> dict[str, Any]:
    """The commodity's document (the `commodities` row's columns, bar tenant and times)."""
    return {
        "code": commodity.code,
        "name": commodity.name,
        "base_unit": commodity.base_unit,
        "units": {unit: str(size) for unit, size in commodity.units.sizes.items()},
        "price_unit": commodity.price_unit,
        "grades": list(commodity.grades),
        "quality": {
            name: {"unit": p.unit, "min": str(p.minimum), "max": str(p.maximum)}
            for name, p in commodity.quality.items()
        },
        "version": commodity.version,
    }


def commodity_from(document: Mapping[str, Any]) -> Commodity:
    """The commodity a document holds (other keys, such as a row's tenant, are ignored)."""
    sizes = {unit: Decimal(size) for unit, size in document["units"].items()}
    quality = {
        name: QualityParameter(name, bound["unit"], Decimal(bound["min"]), Decimal(bound["max"]))
        for name, bound in document["quality"].items()
    }
    return Commodity(
        code=document["code"],
        name=document["name"],
        units=UnitTable(document["base_unit"], sizes),
        price_unit=document["price_unit"],
        grades=tuple(document["grades"]),
        quality=quality,
        version=document["version"],
    )
