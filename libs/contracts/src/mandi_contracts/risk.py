"""Events of the risk service, on `mandi.risk.events`, and the trade saga's steps with risk.

Amounts travel as exact decimal strings with their ISO 4217 currency.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from mandi_contracts.registry import EVENTS
from mandi_messaging.registry import Event

__all__ = [
    "RISK_COMMANDS",
    "RISK_EVENTS",
    "RISK_REPLIES",
    "AssessmentMade",
    "CheckAndReserveExposure",
    "CreditLimitChanged",
    "CreditRefused",
    "CreditReleased",
    "CreditReserved",
    "ExposureReleased",
    "ExposureReserved",
    "ReleaseExposure",
    "RiskModelDriftDetected",
    "RiskModelPromoted",
    "RiskModelRolledBack",
]


@EVENTS.event("mandi.assessment.made", 1)
class AssessmentMade(Event):
    """Risk assessed a proposed trade: its score, decision and the model that decided."""

    tenant_id: UUID
    assessment_id: UUID
    buyer_id: UUID
    seller_id: UUID
    commodity: str
    value: Decimal
    currency: str
    score: int
    decision: str  # APPROVE, APPROVE_WITH_CONDITIONS, REJECT
    model_name: str
    model_version: int


class _ExposureEvent(Event):
    tenant_id: UUID
    partner_id: UUID  # the buyer, whose credit the trade uses
    counterparty_id: UUID | None  # the seller; None when a release found nothing held
    saga_id: UUID
    amount: Decimal
    currency: str
    exposure: Decimal  # the partner's open exposure after the change
    limit: Decimal


@EVENTS.event("mandi.exposure.reserved", 1)
class ExposureReserved(_ExposureEvent):
    """A trade's value now counts against the buyer's credit limit."""


@EVENTS.event("mandi.exposure.released", 1)
class ExposureReleased(_ExposureEvent):
    """A trade's value no longer counts against the buyer's credit limit."""


@EVENTS.event("mandi.credit_limit.changed", 1)
class CreditLimitChanged(Event):
    """A risk officer set a partner's credit limit."""

    tenant_id: UUID
    partner_id: UUID
    amount: Decimal
    currency: str
    version: int
    reason: str


@EVENTS.event("mandi.risk_model.promoted", 1)
class RiskModelPromoted(Event):
    """A model version now decides assessments."""

    tenant_id: UUID
    model_name: str
    model_version: int
    previous_version: int | None


@EVENTS.event("mandi.risk_model.rolled_back", 1)
class RiskModelRolledBack(Event):
    """The model version before the active one decides assessments again."""

    tenant_id: UUID
    model_name: str
    model_version: int
    rolled_back_version: int


@EVENTS.event("mandi.risk_model.drift_detected", 1)
class RiskModelDriftDetected(Event):
    """Recent inputs or scores moved away from the model's training baseline."""

    tenant_id: UUID
    model_name: str
    model_version: int
    stability: dict[str, float]  # population stability index per feature, and "score"
    threshold: float


# The trade saga's commands to risk (keyed by the buyer, so one buyer's are applied in order),
# and risk's replies (keyed by saga id). A command is the same command however often it is
# sent: its saga id and step name it.
class _SagaStep(Event):
    tenant_id: UUID
    saga_id: UUID
    step: str
    buyer_id: UUID


@EVENTS.event("mandi.check_and_reserve.exposure", 1)
class CheckAndReserveExposure(_SagaStep):
    """Count the trade's value against the buyer's credit limit, if it fits."""

    seller_id: UUID
    amount: Decimal
    currency: str


@EVENTS.event("mandi.release.exposure", 1)
class ReleaseExposure(_SagaStep):
    """Give back what a saga reserved of the buyer's credit: this saga's (a compensation), or,
    named by `reserved_by`, another's (a trade's, when it is cancelled or settled)."""

    reserved_by: UUID | None = None


@EVENTS.event("mandi.credit.reserved", 1)
class CreditReserved(_SagaStep):
    """The trade's value counts against the buyer's limit; `headroom` is what is left."""

    amount: Decimal
    currency: str
    headroom: Decimal


@EVENTS.event("mandi.credit.refused", 1)
class CreditRefused(_SagaStep):
    """Nothing was reserved; `reason` says why (no limit, over the limit, another currency)."""

    reason: str


@EVENTS.event("mandi.credit.released", 1)
class CreditReleased(_SagaStep):
    """What the saga had reserved is free again (nothing, if it had nothing)."""

    amount: Decimal
    currency: str


RISK_EVENTS: tuple[type[Event], ...] = (
    AssessmentMade,
    ExposureReserved,
    ExposureReleased,
    CreditLimitChanged,
    RiskModelPromoted,
    RiskModelRolledBack,
    RiskModelDriftDetected,
)
RISK_COMMANDS: tuple[type[Event], ...] = (CheckAndReserveExposure, ReleaseExposure)
RISK_REPLIES: tuple[type[Event], ...] = (CreditReserved, CreditRefused, CreditReleased)
