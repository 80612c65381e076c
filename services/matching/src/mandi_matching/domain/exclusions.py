"""The rules that keep a candidate from ever being proposed, whatever it would score.

`compliance_exclusion` holds the rules of conduct (insiders, a party barred from trading, a
rejected counterparty); the decision orchestrator applies them before any scorer, so no scorer,
heuristic or learned, can propose what they forbid. `trade_exclusion` holds the rules of a trade
that can be made at all: matching terms, open offers, a price within the limit, shared delivery
days, a reachable place and a quantity the availability can reserve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from mandi_matching.domain.distance import delivery_distance_km
from mandi_matching.domain.offers import Candidate, Terms
from mandi_matching.domain.scoring import Excluded
from mandi_matching.domain.trade_terms import price_unit_size, proposed_quantity
from mandi_rules import trade_block

__all__ = [
    "REJECTED",
    "Limits",
    "compliance_exclusion",
    "delivery_overlap",
    "price_ceiling",
    "trade_exclusion",
]

REJECTED = "REJECT"  # the risk decision that bars a counterparty

_Rule = Callable[[Candidate], Excluded | None]


@dataclass(frozen=True)
class Limits:
    """How far a candidate may stray and still be proposed."""

    max_radius_km: Decimal = Decimal(500)
    price_tolerance: Decimal = Decimal(0)  # a share of the limit: 0.02 lets 2 % over it


def compliance_exclusion(candidate: Candidate) -> Excluded | None:
    """Why the two parties may not trade with each other at all, or None."""
    return _first(candidate, (_insiders, _barred_party, _rejected_seller))


def trade_exclusion(candidate: Candidate, now: datetime, limits: Limits) -> Excluded | None:
    """Why no trade can be made of this candidate, the first rule that says so, or None."""
    rules: tuple[_Rule, ...] = (
        _different_terms,
        lambda c: _expired(c, now),
        lambda c: _over_price(c, limits.price_tolerance),
        _no_shared_days,
        lambda c: _beyond_radius(c, limits.max_radius_km),
        _untradeable_quantity,
        _unknown_price_unit,
    )
    return _first(candidate, rules)


def price_ceiling(limit: Decimal, tolerance: Decimal) -> Decimal:
    """The highest asking price a limit admits with its tolerance."""
    return limit * (1 + tolerance)


def delivery_overlap(first: Terms, second: Terms) -> tuple[date, date] | None:
    """The first and last delivery day both terms allow, or None when they share none."""
    start = max(first.delivery_from, second.delivery_from)
    end = min(first.delivery_to, second.delivery_to)
    return (start, end) if start <= end else None


def _first(candidate: Candidate, rules: Iterable[_Rule]) -> Excluded | None:
    return next((found for rule in rules if (found := rule(candidate)) is not None), None)


def _insiders(candidate: Candidate) -> Excluded | None:
    block = trade_block(candidate.buyer.links, candidate.seller.links)
    if block is None:
        return None
    return Excluded(f"the buyer and the seller are insiders ({block.reason})", "insider_trading")


def _barred_party(candidate: Candidate) -> Excluded | None:
    for role, party in (("buyer", candidate.buyer), ("seller", candidate.seller)):
        if not party.may_trade:
            return Excluded(f"the {role} may not trade", "party_may_not_trade")
    return None


def _rejected_seller(candidate: Candidate) -> Excluded | None:
    risk = candidate.seller.risk
    if risk is None or risk.decision != REJECTED:
        return None
    return Excluded(f"risk rejected the seller (score {risk.score})", "risk_rejected")


def _different_terms(candidate: Candidate) -> Excluded | None:
    asked, offered = candidate.requirement.terms, candidate.availability.terms
    for what in ("commodity", "currency", "price_unit"):
        wanted, given = getattr(asked, what), getattr(offered, what)
        if wanted != given:
            reason = f"the {what.replace('_', ' ')} differs: {given} offered, {wanted} asked"
            return Excluded(reason, f"{what}_differs")
    return None


def _expired(candidate: Candidate, now: datetime) -> Excluded | None:
    for role, terms in (
        ("requirement", candidate.requirement.terms),
        ("availability", candidate.availability.terms),
    ):
        if terms.valid_until <= now:
            return Excluded(f"the {role} expired at {terms.valid_until.isoformat()}", "expired")
    return None


def _over_price(candidate: Candidate, tolerance: Decimal) -> Excluded | None:
    limit = candidate.requirement.terms.price
    asking = candidate.availability.terms.price
    if asking <= price_ceiling(limit, tolerance):
        return None
    reason = f"asking {asking} is above the limit {limit} by more than {tolerance:%}"
    return Excluded(reason, "price_above_limit")


def _no_shared_days(candidate: Candidate) -> Excluded | None:
    asked, offered = candidate.requirement.terms, candidate.availability.terms
    if delivery_overlap(asked, offered) is not None:
        return None
    reason = (
        f"delivery {_days(offered.delivery_from, offered.delivery_to)} offered shares no day "
        f"with {_days(asked.delivery_from, asked.delivery_to)} asked"
    )
    return Excluded(reason, "no_delivery_overlap")


def _beyond_radius(candidate: Candidate, max_radius_km: Decimal) -> Excluded | None:
    distance = delivery_distance_km(candidate)
    if distance <= max_radius_km:
        return None
    reason = f"{distance} km from the delivery point, beyond the {max_radius_km} km radius"
    return Excluded(reason, "beyond_radius")


def _untradeable_quantity(candidate: Candidate) -> Excluded | None:
    quantity = proposed_quantity(candidate)
    availability = candidate.availability
    if quantity <= 0:
        return Excluded("nothing of the availability is free", "quantity_untradeable")
    asked_lot = candidate.requirement.terms.minimum_lot
    if quantity < asked_lot:
        return _below_lot(quantity, "requirement", asked_lot, availability.terms.base_unit)
    offered_lot = availability.terms.minimum_lot
    # Availability reserves less than its lot only when that is all it has free.
    if quantity < offered_lot and quantity != availability.free:
        return _below_lot(quantity, "availability", offered_lot, availability.terms.base_unit)
    return None


def _below_lot(quantity: Decimal, role: str, lot: Decimal, unit: str) -> Excluded:
    reason = f"{quantity} {unit} is below the {role}'s minimum lot of {lot} {unit}"
    return Excluded(reason, "quantity_untradeable")


def _unknown_price_unit(candidate: Candidate) -> Excluded | None:
    if price_unit_size(candidate) is not None:
        return None
    terms = candidate.availability.terms
    reason = (
        f"priced per {terms.price_unit}, kept in {terms.base_unit}: the size of a "
        f"{terms.price_unit} in {terms.base_unit} is not known, so neither is the value"
    )
    return Excluded(reason, "price_unit_size_unknown")


def _days(first: date, last: date) -> str:
    return f"{first.isoformat()} to {last.isoformat()}"
