"""Exact money: Decimal throughout, never a float, in an ISO 4217 currency.

An amount has at most `AMOUNT_PLACES` decimal places, and money at most its currency's minor
units (two for INR): more is refused, not rounded away. Availability prices offers in it, risk
keeps credit limits and exposure in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from mandi_errors import InvalidInput

__all__ = ["AMOUNT_PLACES", "Currency", "Money", "exact_decimal"]

AMOUNT_PLACES = 6
_MAX_DIGITS = 24  # an amount beyond 10^18 of anything is a typo, not a trade


class Currency(StrEnum):
    """The currencies a desk trades in (ISO 4217)."""

    INR = "INR"
    USD = "USD"
    EUR = "EUR"
    GBP = "GBP"
    AED = "AED"
    SGD = "SGD"
    JPY = "JPY"


# Their minor units: a price has no more decimal places.
_MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {currency.value: 0 if currency is Currency.JPY else 2 for currency in Currency}
)


def exact_decimal(value: Decimal | int | str, what: str, *, places: int = AMOUNT_PLACES) -> Decimal:
    """The value as a finite Decimal with at most `places` decimal places, or InvalidInput."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{what} is not a number.") from None
    if not number.is_finite():
        raise InvalidInput(f"{what} must be a finite number.")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(f"{what} has more than {places} decimal places.")
    if number.adjusted() >= _MAX_DIGITS - AMOUNT_PLACES:
        raise InvalidInput(f"{what} is too large.")
    return number


@dataclass(frozen=True, order=True)
class Money:
    """An amount of one currency, with no more decimals than the currency has minor units."""

    currency: str
    amount: Decimal

    def __post_init__(self) -> None:
        places = _MINOR_UNITS.get(self.currency)
        if places is None:
            known = ", ".join(sorted(_MINOR_UNITS))
            raise InvalidInput(f"Unknown currency {self.currency!r}: amounts are in {known}.")
        amount = exact_decimal(self.amount, f"An amount in {self.currency}", places=places)
        if amount < 0:
            raise InvalidInput("An amount of money cannot be negative.")
        object.__setattr__(self, "amount", amount)
