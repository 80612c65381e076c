"""Request bodies of the risk API: shapes and sizes here, rules in the domain.

Unknown fields are refused; every string has a bound, so an oversized value is a 422 rather
than a row. Money is an exact amount (a JSON number or a string) with an ISO 4217 currency;
the domain refuses more decimal places than the currency has.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from mandi_risk.domain.assessment import Proposal
from mandi_risk.domain.profile import Rating
from mandi_rules import Currency, Money
from mandi_runtime.amounts import Amount, PositiveAmount
from mandi_runtime.text import single_line

__all__ = ["AssessmentIn", "CreditLimitIn", "ModelVersionIn", "PaymentIn", "RatingIn"]

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ModelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]

_BUYER = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
_SELLER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
_ASSESSMENT: JsonDict = {
    "buyer_id": _BUYER,
    "seller_id": _SELLER,
    "commodity": "cotton",
    "value": "2240000.00",
    "currency": "INR",
}


def _not_a_boolean(value: object) -> object:
    # JSON's true and false are not numbers, though Python counts them as ints.
    if isinstance(value, bool):
        raise ValueError("a number of days, not true or false")  # noqa: TRY004 - pydantic's 422
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssessmentIn(_Body):
    """A proposed trade to assess."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ASSESSMENT]})

    buyer_id: UUID
    seller_id: UUID
    commodity: Code
    value: PositiveAmount = Field(
        description="The trade's value; no more decimals than the currency has (two for INR)."
    )
    currency: Currency

    def to_proposal(self) -> Proposal:
        """The proposal; InvalidInput for more decimals than the currency has."""
        return Proposal(
            self.buyer_id, self.seller_id, self.commodity, Money(self.currency, self.value)
        )


class CreditLimitIn(_Body):
    """A partner's credit limit, and why it is set so."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": "5000000.00", "currency": "INR", "reason": "annual review"}]
        }
    )

    amount: Amount = Field(
        description="The limit; no more decimals than the currency has (two for INR)."
    )
    currency: Currency
    reason: Annotated[str, single_line(500)] = Field(min_length=1)

    def to_money(self) -> Money:
        """The limit; InvalidInput for more decimals than the currency has."""
        return Money(self.currency, self.amount)


class RatingIn(_Body):
    """A risk officer's rating of a partner."""

    rating: Rating


class PaymentIn(_Body):
    """One payment a partner made: how many days after it was due (0: on time)."""

    days_late: Annotated[int, BeforeValidator(_not_a_boolean)] = Field(ge=0, le=3650)


class ModelVersionIn(_Body):
    """A registered model version, to promote."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "logistic", "version": 1}]})

    name: ModelName
    version: int = Field(ge=1, le=1_000_000)
