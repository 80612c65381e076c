"""A tenant's commodity catalog: what may be traded, in which grades, units and qualities.

Each commodity has a base unit its quantities are kept in, the units they may be given in
(commodity specific: a cotton bale is 170 kg), the unit its prices are quoted per, its grades,
and its quality parameters, each with a unit and an allowed range (staple length 22 to 38 mm,
moisture 0 to 10 %). An offer names one grade and measures some of the parameters; every value it
gives must lie in its parameter's range. Operator staff manage the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

from mandi_availability.domain.quantities import UnitTable, exact_decimal
from mandi_errors import InvalidInput

__all__ = ["Commodity", "CommodityChanges", "QualityParameter"]

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_MAX_NAME = 200
_MAX_GRADES = 100


@dataclass(frozen=True)
class QualityParameter:
    """A measured property of a commodity, in `unit`, allowed within [minimum, maximum]."""

    name: str
    unit: str
    minimum: Decimal
    maximum: Decimal

    def __post_init__(self) -> None:
        if not _CODE.match(self.name):
            raise InvalidInput(
                f"A quality parameter's name is a code like moisture_pct: {self.name!r}."
            )
        minimum = exact_decimal(self.minimum, f"The minimum of {self.name}")
        maximum = exact_decimal(self.maximum, f"The maximum of {self.name}")
        if minimum > maximum:
            raise InvalidInput(f"The range of {self.name} ends before it starts.")
        object.__setattr__(self, "minimum", minimum)
        object.__setattr__(self, "maximum", maximum)

    def checked(self, value: Decimal | str | int) -> Decimal:
        """The value, if it lies in the parameter's range."""
        number = exact_decimal(value, f"Quality {self.name}")
        if not self.minimum <= number <= self.maximum:
            raise InvalidInput(
                f"Quality {self.name} must lie between {self.minimum} and {self.maximum}"
                f" {self.unit}; {number} was given.",
                extensions={"parameter": self.name},
            )
        return number


@dataclass(frozen=True)
class Commodity:
    """One commodity of a tenant's catalog."""

    code: str
    name: str
    units: UnitTable
    price_unit: str
    grades: tuple[str, ...]
    quality: Mapping[str, QualityParameter] = field(default_factory=dict)
    version: int = 1

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise InvalidInput(f"A commodity's code is lower case, like cotton: {self.code!r}.")
        if not self.name.strip() or len(self.name) > _MAX_NAME:
            raise InvalidInput(f"A commodity's name has 1 to {_MAX_NAME} characters.")
        self.units.size_of(self.price_unit)  # a price is quoted per a unit the commodity knows
        if not self.grades or len(self.grades) > _MAX_GRADES:
            raise InvalidInput(f"A commodity has 1 to {_MAX_GRADES} grades.")
        if len(set(self.grades)) != len(self.grades) or not all(g.strip() for g in self.grades):
            raise InvalidInput("A commodity's grades are named, each once.")
        for key, parameter in self.quality.items():
            if key != parameter.name:
                raise ValueError(f"quality parameter {parameter.name!r} filed as {key!r}")
        object.__setattr__(self, "quality", MappingProxyType(dict(self.quality)))

    @property
    def base_unit(self) -> str:
        """The unit every quantity of this commodity is kept in."""
        return self.units.base_unit

    def require_grade(self, grade: str) -> str:
        """The grade, if the commodity has it."""
        if grade not in self.grades:
            known = ", ".join(self.grades)
            raise InvalidInput(f"{self.name} has no grade {grade!r}; its grades are {known}.")
        return grade

    def checked_quality(self, values: Mapping[str, Decimal | str | int]) -> dict[str, Decimal]:
        """The measured qualities, each a parameter of this commodity and within its range."""
        checked: dict[str, Decimal] = {}
        for name, value in values.items():
            parameter = self.quality.get(name)
            if parameter is None:
                known = ", ".join(sorted(self.quality)) or "none"
                raise InvalidInput(
                    f"{self.name} has no quality parameter {name!r}; it has {known}.",
                    extensions={"parameter": name},
                )
            checked[name] = parameter.checked(value)
        return checked

    def in_base_unit(self, amount: Decimal | str | int, unit: str, what: str) -> Decimal:
        """A positive amount given in `unit`, in the base unit, exactly."""
        number = exact_decimal(amount, what)
        if number <= 0:
            raise InvalidInput(f"{what} must be more than zero.")
        return self.units.to_base(number, unit)


@dataclass(frozen=True)
class CommodityChanges:
    """What a change of a commodity replaces; None keeps the current value. Its code and base
    unit never change: offers keep their quantities in that unit."""

    name: str | None = None
    own_units: Mapping[str, Decimal] | None = None  # beside the common ones
    price_unit: str | None = None
    grades: tuple[str, ...] | None = None
    quality: Mapping[str, QualityParameter] | None = None

    def applied_to(self, commodity: Commodity) -> Commodity:
        """The commodity with these changes, checked as a new one is."""
        units = commodity.units
        if self.own_units is not None:
            units = UnitTable.with_units(commodity.base_unit, self.own_units)
        return replace(
            commodity,
            name=commodity.name if self.name is None else self.name,
            units=units,
            price_unit=self.price_unit or commodity.price_unit,
            grades=commodity.grades if self.grades is None else self.grades,
            quality=commodity.quality if self.quality is None else self.quality,
        )
