"""What the API shows: plain JSON-able models, so an idempotent answer is stored and replayed
exactly. Quantities, sizes and bounds are exact decimals, written as strings."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from mandi_availability.domain.catalog import Commodity

__all__ = ["CommodityView", "QualityView", "commodity_view"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QualityView(_View):
    """A quality parameter: its unit and allowed range."""

    unit: str
    min: Decimal
    max: Decimal


class CommodityView(_View):
    """A commodity of the catalog."""

    code: str
    name: str
    base_unit: str
    units: dict[str, Decimal]  # each unit's size in the base unit
    price_unit: str
    grades: list[str]
    quality: dict[str, QualityView]
    version: int


def commodity_view(commodity: Commodity) -> CommodityView:
    """The commodity as the API shows it."""
    return CommodityView(
        code=commodity.code,
        name=commodity.name,
        base_unit=commodity.base_unit,
        units=dict(commodity.units.sizes),
        price_unit=commodity.price_unit,
        grades=list(commodity.grades),
        quality={
            name: QualityView(unit=p.unit, min=p.minimum, max=p.maximum)
            for name, p in commodity.quality.items()
        },
        version=commodity.version,
    )
