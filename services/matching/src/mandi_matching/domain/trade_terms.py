"""The trade a candidate comes to: how much, at what price, for what value.

The quantity is as much as the buyer asks and the seller has free. The price is the seller's
asking price. The value is the quantity in price units times the price, rounded half up to the
currency's minor units, since that is the amount risk checks against a credit limit.

The price unit's size in the base unit is the catalog's, as the candidate carries it; a price
per the base unit needs none. Without it the value is unknown and the candidate cannot be
proposed: a value off by the unit's size (a quintal is 100 kg) would mislead the credit check.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from mandi_matching.domain.offers import Candidate
from mandi_matching.domain.scoring import ProposedTerms
from mandi_rules import Currency

__all__ = ["price_unit_size", "proposed_quantity", "proposed_terms", "trade_value"]

# As mandi_rules' Money counts minor units: none for the yen, two for the others.
_WITHOUT_MINOR_UNITS = frozenset({Currency.JPY.value})


def proposed_quantity(candidate: Candidate) -> Decimal:
    """As much as the requirement asks for and the availability has free (base unit)."""
    return min(candidate.requirement.terms.quantity, candidate.availability.free)


def price_unit_size(candidate: Candidate) -> Decimal | None:
    """The size of the price unit in the base unit, or None when it is not known."""
    terms = candidate.availability.terms
    if terms.price_unit == terms.base_unit:
        return Decimal(1)
    size = candidate.price_unit_size
    return size if size is not None and size > 0 else None


def trade_value(quantity: Decimal, price: Decimal, unit_size: Decimal, currency: str) -> Decimal:
    """`quantity` (base unit) at `price` per unit of `unit_size`, in the currency's minor units."""
    places = 0 if currency in _WITHOUT_MINOR_UNITS else 2
    exact = quantity * price / unit_size  # one division, last, so one rounding
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def proposed_terms(candidate: Candidate) -> ProposedTerms:
    """The proposed quantity at the availability's asking price, and its value; for a candidate
    whose price unit's size is known (no trade rule excludes it)."""
    unit_size = price_unit_size(candidate)
    if unit_size is None:
        raise ValueError("a candidate's value needs the size of its price unit")
    quantity = proposed_quantity(candidate)
    terms = candidate.availability.terms
    value = trade_value(quantity, terms.price, unit_size, terms.currency)
    return ProposedTerms(quantity, terms.price, terms.currency, value)
