"""Request bodies of the availability API: shapes and sizes here, rules in the domain.

Unknown fields are refused; every string, map and list has a bound, so an oversized value is a
422 rather than a row. Exact amounts (unit sizes, quality bounds) are decimals, sent as JSON
numbers or strings; the domain refuses more decimal places than it keeps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mandi_availability.domain.catalog import Commodity, CommodityChanges, QualityParameter
from mandi_availability.domain.quantities import UnitTable
from mandi_runtime.text import single_line

__all__ = ["CommodityChangesIn", "CommodityIn", "QualityIn"]

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
UnitName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$")]
Grade = Annotated[str, single_line(100)]
Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=24)]
_UNITS = Field(max_length=20, description="Each unit's size in the base unit (bale: 170).")
_QUALITY = Field(max_length=30, description="Each quality parameter by its code.")
_GRADES = Field(min_length=1, max_length=100)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualityIn(_Strict):
    """A quality parameter: its unit and allowed range."""

    unit: Annotated[str, single_line(20)]
    min: Amount
    max: Amount


def _quality(quality: dict[str, QualityIn]) -> dict[str, QualityParameter]:
    return {
        name: QualityParameter(name, bound.unit, bound.min, bound.max)
        for name, bound in quality.items()
    }


class CommodityIn(_Strict):
    """A commodity to add to the catalog. `units` are its own, beside kg, quintal and tonne."""

    code: Code
    name: Annotated[str, single_line(200)]
    base_unit: UnitName = "kg"
    units: dict[UnitName, Amount] = _UNITS
    price_unit: UnitName
    grades: list[Grade] = _GRADES
    quality: dict[Code, QualityIn] = _QUALITY

    def to_commodity(self) -> Commodity:
        """The commodity, checked against the catalog's rules."""
        return Commodity(
            code=self.code,
            name=self.name,
            units=UnitTable.with_units(self.base_unit, self.units),
            price_unit=self.price_unit,
            grades=tuple(self.grades),
            quality=_quality(self.quality),
        )


class CommodityChangesIn(_Strict):
    """What changes; a field not sent keeps its value. `units` replace the commodity's own."""

    name: Annotated[str, single_line(200)] | None = None
    units: dict[UnitName, Amount] | None = _UNITS
    price_unit: UnitName | None = None
    grades: list[Grade] | None = _GRADES
    quality: dict[Code, QualityIn] | None = _QUALITY

    def to_changes(self) -> CommodityChanges:
        """The changes, checked when applied to the commodity."""
        return CommodityChanges(
            name=self.name,
            own_units=self.units,
            price_unit=self.price_unit,
            grades=None if self.grades is None else tuple(self.grades),
            quality=None if self.quality is None else _quality(self.quality),
        )
