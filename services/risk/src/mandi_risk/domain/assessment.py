"""An assessment of a proposed trade: its factors, a score, a decision, and why, in words.

The decision follows the score (APPROVE from `APPROVE_AT`, conditions from `CONDITIONS_AT`,
REJECT below), except where a rule rejects outright whatever the score: the two partners are
insiders to each other, the buyer may not trade (not approved, or suspended), or the trade does
not fit the buyer's credit limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from mandi_risk.domain.credit import CreditLimit, Exposure
from mandi_risk.domain.features import Features
from mandi_risk.domain.profile import LATE_DAYS_CAP, PartnerProfile, Standing
from mandi_risk.domain.scoring import Scored
from mandi_rules import Money, trade_block

__all__ = [
    "APPROVE_AT",
    "CONDITIONS_AT",
    "Assessment",
    "BureauReading",
    "Decision",
    "Proposal",
    "Situation",
    "Verdict",
    "decide",
    "features_of",
]

APPROVE_AT = 70
CONDITIONS_AT = 50
_BUREAU_FLOOR, _BUREAU_SPAN = 300, 600  # bureau scores run from 300 to 900
# A remembered bureau score loses this much strength per 30 days of age (the breaker was open).
_AGE_PENALTY_PER_30_DAYS = 0.05
_ON_TIME_WITHOUT_HISTORY = 0.75  # a partner with no payments yet is neither good nor bad
_LITTLE_HEADROOM, _PUNCTUAL, _OFTEN_LATE, _CONCENTRATED, _WEAK = 0.25, 0.8, 0.2, 0.5, 0.5
# What each weak factor asks of a trade the score approves only on conditions.
_CONDITIONS: tuple[tuple[Callable[[Features], bool], str], ...] = (
    (
        lambda f: f.credit_headroom < _LITTLE_HEADROOM,
        "An advance of 25% of the trade's value before dispatch.",
    ),
    (
        lambda f: f.on_time_ratio < _PUNCTUAL or f.days_late > _OFTEN_LATE,
        "Payment against documents through a letter of credit.",
    ),
    (
        lambda f: f.concentration > _CONCENTRATED,
        "No further trade with this seller until this one settles.",
    ),
    (
        lambda f: f.bureau is None or f.bureau < _WEAK,
        "A bank guarantee for the trade's value.",
    ),
    (lambda f: f.rating < _WEAK, "Sign-off by a senior risk officer."),
)


class Decision(StrEnum):
    """What risk says of a proposed trade."""

    APPROVE = "APPROVE"
    APPROVE_WITH_CONDITIONS = "APPROVE_WITH_CONDITIONS"
    REJECT = "REJECT"


@dataclass(frozen=True)
class Proposal:
    """A trade someone proposes: who buys from whom, what, for how much."""

    buyer_id: UUID
    seller_id: UUID
    commodity: str
    value: Money


@dataclass(frozen=True)
class BureauReading:
    """The buyer's bureau score as the assessment could get it, and how.

    Live: the bureau answered just now. Fresh: it answered recently enough (within the desk's
    freshness window) that it was not asked again; a bureau's pull is paid for, and its
    scores move daily at most. Remembered: it could not answer (`why_not_live`), and its last
    score stands in, less for its age. None: it could not answer and never did.
    """

    score: int | None  # 300..900; None: none live, none remembered
    as_of: datetime | None = None
    live: bool = False
    why_not_live: str = ""  # "breaker open", "timed out", "invalid answer", ...
    fresh: bool = False

    def strength(self, now: datetime) -> float | None:
        """The score on 0..1, less for a remembered one by its age; None without a score."""
        if self.score is None:
            return None
        strength = (self.score - _BUREAU_FLOOR) / _BUREAU_SPAN
        if not (self.live or self.fresh) and self.as_of is not None:
            age = max(timedelta(0), now - self.as_of)
            strength -= _AGE_PENALTY_PER_30_DAYS * (age / timedelta(days=30))
        return max(0.0, strength)

    def describe(self, now: datetime) -> str:
        """How the bureau factor came about, in words."""
        if self.live:
            return f"bureau score {self.score}, live"
        if self.score is None:
            return f"no bureau score ({self.why_not_live}): the bureau factor is left out"
        if self.fresh:
            hours = (now - self.as_of) // timedelta(hours=1) if self.as_of else 0
            return f"bureau score {self.score} from {hours} h ago, recent enough not to ask again"
        age = (now - self.as_of).days if self.as_of else 0
        return (
            f"bureau score {self.score} remembered from {age} days ago ({self.why_not_live}), "
            "less for its age"
        )


@dataclass(frozen=True)
class Situation:
    """Everything risk knows that bears on one proposal."""

    buyer: PartnerProfile
    seller: PartnerProfile
    limit: CreditLimit | None
    exposure: Exposure
    with_seller: Decimal  # the buyer's open exposure with this seller already
    bureau: BureauReading


def features_of(proposal: Proposal, situation: Situation, now: datetime) -> Features:
    """The six factors of the proposal (see features.py)."""
    value = proposal.value.amount
    limit = situation.limit.limit.amount if situation.limit else Decimal(0)
    headroom = (limit - situation.exposure.open - value) / limit if limit > 0 else Decimal(-1)
    after = situation.exposure.open + value
    concentration = (situation.with_seller + value) / after if after > 0 else Decimal(0)
    payments = situation.buyer.payments
    on_time = payments.on_time_ratio
    rating = situation.buyer.rating
    return Features(
        credit_headroom=float(headroom),
        rating=rating.strength if rating is not None else 0.0,
        on_time_ratio=_ON_TIME_WITHOUT_HISTORY if on_time is None else on_time,
        days_late=payments.average_days_late / LATE_DAYS_CAP,
        concentration=float(concentration),
        bureau=situation.bureau.strength(now),
    )


@dataclass(frozen=True)
class Verdict:
    """The decision, its conditions, and the rationale in words."""

    decision: Decision
    conditions: list[str] = field(default_factory=list)
    rationale: str = ""


def decide(
    proposal: Proposal,
    situation: Situation,
    features: Features,
    scored: Scored,
    now: datetime,
) -> Verdict:
    """The decision on a scored proposal, with why."""
    explained = _breakdown(scored, situation, now)
    rule = _outright_rejection(proposal, situation, features)
    if rule is not None:
        return Verdict(Decision.REJECT, [], f"Rejected: {rule}. {explained}")
    score = scored.score
    if score >= APPROVE_AT:
        return Verdict(Decision.APPROVE, [], f"Approved with score {score}. {explained}")
    if score >= CONDITIONS_AT:
        conditions = _conditions(features)
        return Verdict(
            Decision.APPROVE_WITH_CONDITIONS,
            conditions,
            f"Approved on conditions with score {score} (approval takes {APPROVE_AT}). {explained}",
        )
    return Verdict(
        Decision.REJECT,
        [],
        f"Rejected with score {score} (conditions take {CONDITIONS_AT}). {explained}",
    )


def _outright_rejection(proposal: Proposal, situation: Situation, features: Features) -> str | None:
    block = trade_block(situation.buyer.links, situation.seller.links)
    if block is not None:
        return f"the buyer and the seller are insiders to each other ({block.reason})"
    for role, profile in (("buyer", situation.buyer), ("seller", situation.seller)):
        if profile.standing is not Standing.APPROVED:
            return f"the {role} may not trade (it is {profile.standing.value})"
    if situation.limit is None:
        return "the buyer has no credit limit"
    if situation.limit.limit.currency != proposal.value.currency:
        return f"the buyer's credit limit is in {situation.limit.limit.currency}"
    if features.credit_headroom < 0:
        return "the trade does not fit the buyer's credit limit"
    return None


def _conditions(features: Features) -> list[str]:
    asked = [condition for weak, condition in _CONDITIONS if weak(features)]
    return asked or ["An advance of 10% of the trade's value before dispatch."]


def _breakdown(scored: Scored, situation: Situation, now: datetime) -> str:
    ranked = sorted(scored.points.items(), key=lambda item: item[1], reverse=True)
    # round() + 0.0: a factor that gave nothing reads +0.0, never -0.0.
    parts = ", ".join(
        f"{name.replace('_', ' ')} {round(points, 1) + 0.0:+.1f}" for name, points in ranked
    )
    model = f"{scored.model.name} v{scored.model.version}"
    return f"By {model}: base {scored.base:.1f}, {parts}; {situation.bureau.describe(now)}."


@dataclass(frozen=True)
class Assessment:
    """One assessment as stored: who asked, about what, what the model saw and what it said."""

    id: UUID
    proposal: Proposal
    features: Features
    scored: Scored
    verdict: Verdict
    bureau: BureauReading
    assessed_by: str
    assessed_at: datetime
