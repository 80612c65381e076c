"""The pure part of the decision orchestrator: which scorer decides, what it decided and why,
and the order proposals are offered in.

Every candidate goes through `decide`, whichever scorer is active: the rules of conduct
(`compliance_exclusion`) are applied before the scorer is asked, so swapping in a learned scorer
can never propose insiders or a barred party. A decision records the inputs it was made on (ids,
codes and numbers; no names, places or contacts), so it can be explained and replayed later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from mandi_errors import NotFound
from mandi_matching.domain.distance import delivery_distance_km
from mandi_matching.domain.exclusions import compliance_exclusion
from mandi_matching.domain.offers import Candidate, Party, RiskView, Terms
from mandi_matching.domain.scoring import Excluded, Factor, Scored, Scorer, ScorerRef
from mandi_matching.domain.trade_terms import price_unit_size

__all__ = ["Decision", "ScorerCatalog", "decide", "inputs_of", "rank"]


class ScorerCatalog:
    """The scorers known by name and version, and the one that decides now."""

    def __init__(self, scorers: Iterable[Scorer], active: ScorerRef) -> None:
        self._scorers = {scorer.ref: scorer for scorer in scorers}
        self._active = self.scorer(active)

    @property
    def refs(self) -> tuple[ScorerRef, ...]:
        """Every known scorer's name and version, in order."""
        return tuple(sorted(self._scorers))

    def active(self) -> Scorer:
        """The scorer that decides now."""
        return self._active

    def scorer(self, ref: ScorerRef) -> Scorer:
        """The scorer of that name and version, or NotFound naming the known ones."""
        found = self._scorers.get(ref)
        if found is None:
            known = ", ".join(f"{each.name} v{each.version}" for each in self.refs) or "none"
            raise NotFound(f"No scorer {ref.name} v{ref.version} is known; known: {known}.")
        return found

    def activate(self, ref: ScorerRef) -> ScorerCatalog:
        """The same scorers with `ref` deciding, or NotFound when it is not among them."""
        return ScorerCatalog(self._scorers.values(), ref)


@dataclass(frozen=True)
class Decision:
    """A candidate as its scorer decided it: the inputs, the breakdown, the score and the trade.

    `inputs` is JSON-able; quantities, prices and points are exact decimals throughout.
    """

    requirement_id: UUID
    availability_id: UUID
    buyer_id: UUID
    seller_id: UUID
    scorer: ScorerRef
    inputs: Mapping[str, Any]
    breakdown: tuple[Factor, ...]
    score: Decimal
    rationale: str
    commodity: str
    grade: str
    quantity: Decimal  # base unit
    base_unit: str
    price: Decimal  # per price unit
    price_unit: str
    currency: str
    value: Decimal

    def breakdown_record(self) -> dict[str, dict[str, str]]:
        """The breakdown as JSON: by factor, its points, maximum and rationale."""
        return {
            factor.name: {
                "points": str(factor.points),
                "maximum": str(factor.maximum),
                "rationale": factor.rationale,
            }
            for factor in self.breakdown
        }


def decide(scorer: Scorer, candidate: Candidate, now: datetime) -> Decision | Excluded:
    """The scorer's decision on the candidate, or why it must never be proposed."""
    outcome = compliance_exclusion(candidate) or scorer.score(candidate, now)
    if isinstance(outcome, Excluded):
        return outcome
    return _decision(candidate, outcome)


def rank(decisions: Iterable[Decision]) -> list[Decision]:
    """Best score first; on a tie the cheaper, then the lower availability id, for one order."""
    return sorted(
        decisions,
        key=lambda decision: (
            -decision.score,
            decision.price,
            decision.availability_id,
            decision.requirement_id,
        ),
    )


def _decision(candidate: Candidate, scored: Scored) -> Decision:
    requirement, availability = candidate.requirement, candidate.availability
    terms = availability.terms
    return Decision(
        requirement_id=requirement.id,
        availability_id=availability.id,
        buyer_id=candidate.buyer.partner_id,
        seller_id=candidate.seller.partner_id,
        scorer=scored.scorer,
        inputs=inputs_of(candidate),
        breakdown=scored.factors,
        score=scored.score,
        rationale=_rationale(scored, terms),
        commodity=terms.commodity,
        grade=terms.grade,
        quantity=scored.terms.quantity,
        base_unit=terms.base_unit,
        price=scored.terms.price,
        price_unit=terms.price_unit,
        currency=scored.terms.currency,
        value=scored.terms.value,
    )


def inputs_of(candidate: Candidate) -> dict[str, Any]:
    """What a decision was made on, as JSON: ids, codes and numbers, no places or people."""
    requirement, availability = candidate.requirement, candidate.availability
    return {
        "requirement": {
            "id": str(requirement.id),
            "version": requirement.version,
            "terms": _terms_record(requirement.terms),
        },
        "availability": {
            "id": str(availability.id),
            "version": availability.version,
            "free": str(availability.free),
            "terms": _terms_record(availability.terms),
        },
        "buyer": _party_record(candidate.buyer),
        "seller": _party_record(candidate.seller),
        "distance_km": str(delivery_distance_km(candidate)),
        "price_unit_size": _optional_number(price_unit_size(candidate)),
        "quality_ranges": {
            name: {"minimum": str(span.minimum), "maximum": str(span.maximum)}
            for name, span in sorted(candidate.quality_ranges.items())
        },
    }


def _terms_record(terms: Terms) -> dict[str, Any]:
    return {
        "commodity": terms.commodity,
        "grade": terms.grade,
        "quality": {name: str(value) for name, value in sorted(terms.quality.items())},
        "quantity": str(terms.quantity),
        "minimum_lot": str(terms.minimum_lot),
        "base_unit": terms.base_unit,
        "price": str(terms.price),
        "currency": terms.currency,
        "price_unit": terms.price_unit,
        "delivery_from": terms.delivery_from.isoformat(),
        "delivery_to": terms.delivery_to.isoformat(),
        "valid_until": terms.valid_until.isoformat(),
    }


def _party_record(party: Party) -> dict[str, Any]:
    return {
        "id": str(party.partner_id),
        "may_trade": party.may_trade,
        "risk": _risk_record(party.risk),
    }


def _optional_number(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


def _risk_record(risk: RiskView | None) -> dict[str, Any] | None:
    return None if risk is None else {"score": risk.score, "decision": risk.decision}


def _rationale(scored: Scored, terms: Terms) -> str:
    proposed = scored.terms
    factors = "; ".join(
        f"{factor.name.replace('_', ' ')} {factor.points} of {factor.maximum}: {factor.rationale}"
        for factor in scored.factors
    )
    return (
        f"Scored {scored.score} of 100 by {scored.scorer.name} v{scored.scorer.version}: "
        f"{factors}. Proposes {proposed.quantity} {terms.base_unit} at {proposed.price} "
        f"{proposed.currency} per {terms.price_unit}, {proposed.value} {proposed.currency} in all."
    )
