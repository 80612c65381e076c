"""Exact quantities: Decimal throughout, never a float; money is the shared rules' (`Money`).

A quantity is kept in its commodity's base unit (kg for most) and accepted in any unit the
commodity knows: a cotton bale is 170 kg, a candy 355.6 kg, a quintal 100 kg. Converting into
the base unit multiplies by the unit's size, which is exact; converting back divides, which is
exact for any amount that came in through that unit, so a round trip returns what was sent.

An amount a client sends has at most `AMOUNT_PLACES` decimal places, and a price at most its
currency's minor units (two for INR): more is refused, not rounded away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from types import MappingProxyType

from mandi_errors import InvalidInput
from mandi_rules.money import AMOUNT_PLACES, Currency, Money, exact_decimal

__all__ = [
    "AMOUNT_PLACES",
    "COMMON_UNITS",
    "Currency",
    "Money",
    "UnitTable",
    "exact_decimal",
]

# Wide enough that no product or quotient of amounts within the limits is ever rounded.
_EXACT = Context(prec=60)
_KG = "kg"
# The units every commodity measured in kg knows (a commodity may add its own, or redefine one).
COMMON_UNITS: Mapping[str, Decimal] = MappingProxyType(
    {"kg": Decimal(1), "quintal": Decimal(100), "tonne": Decimal(1000)}
)


@dataclass(frozen=True)
class UnitTable:
    """The units a commodity's quantities may be given in, each as its size in the base unit."""

    base_unit: str
    sizes: Mapping[str, Decimal] = field(default_factory=lambda: dict(COMMON_UNITS))

    def __post_init__(self) -> None:
        if self.sizes.get(self.base_unit) != 1:
            raise InvalidInput(f"The base unit {self.base_unit!r} has the size 1.")
        sizes = {}
        for unit, size in self.sizes.items():
            sizes[unit] = exact_decimal(size, f"The size of unit {unit!r}")
            if not unit or sizes[unit] <= 0:
                raise InvalidInput(f"Unit {unit!r} has a size of more than zero.")
        object.__setattr__(self, "sizes", MappingProxyType(sizes))

    @classmethod
    def with_units(cls, base_unit: str, own: Mapping[str, Decimal | str]) -> UnitTable:
        """The commodity's own units, and the common ones when its base unit is kg (theirs);
        its own win over a common one."""
        common = COMMON_UNITS if base_unit == _KG else {}
        sizes = {**common, **{unit: Decimal(str(size)) for unit, size in own.items()}}
        sizes.setdefault(base_unit, Decimal(1))
        return cls(base_unit, sizes)

    def size_of(self, unit: str) -> Decimal:
        """How many base units one `unit` is; InvalidInput for a unit this commodity lacks."""
        size = self.sizes.get(unit)
        if size is None:
            known = ", ".join(sorted(self.sizes))
            raise InvalidInput(f"Unknown unit {unit!r}: this commodity is measured in {known}.")
        return size

    def to_base(self, amount: Decimal, unit: str) -> Decimal:
        """The amount in the base unit, exactly."""
        return _EXACT.multiply(amount, self.size_of(unit))

    def from_base(self, amount: Decimal, unit: str) -> Decimal:
        """The base amount in `unit`: exact for an amount that came in through that unit."""
        return _EXACT.divide(amount, self.size_of(unit)).normalize(_EXACT)
