"""Credit limits and exposure: a reservation fits under the limit or is refused with why."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from mandi_errors import InvalidInput
from mandi_risk.domain.credit import CreditLimit, Exposure, Refusal, Reserved, reserve
from mandi_risk.domain.profile import PaymentRecord, Rating
from mandi_rules import Money

BUYER = uuid4()
NOW = datetime(2026, 11, 30, tzinfo=UTC)
LIMIT = CreditLimit(
    BUYER, Money("INR", Decimal("1000000.00")), "annual review", "risk.officer", NOW
)


def test_a_reservation_within_the_limit_adds_to_the_exposure() -> None:
    exposure = Exposure(BUYER, "INR", Decimal(400000))
    reserved = reserve(LIMIT, exposure, Money("INR", Decimal("600000.00")))
    assert isinstance(reserved, Reserved)
    assert reserved.exposure == Exposure(BUYER, "INR", Decimal("1000000.00"))
    assert reserved.headroom == 0


@pytest.mark.parametrize(
    ("limit", "value", "reason"),
    [
        (None, Money("INR", Decimal(1)), "no credit limit"),
        (LIMIT, Money("USD", Decimal(1)), "in USD; the buyer's limit is in INR"),
        (LIMIT, Money("INR", Decimal(0)), "more than zero"),
        (LIMIT, Money("INR", Decimal("600000.01")), "exceeds the buyer's headroom of 600000"),
    ],
)
def test_a_reservation_that_does_not_fit_is_refused_with_why(
    limit: CreditLimit | None, value: Money, reason: str
) -> None:
    refused = reserve(limit, Exposure(BUYER, "INR", Decimal(400000)), value)
    assert isinstance(refused, Refusal)
    assert reason in refused.reason


def test_giving_back_never_goes_below_zero() -> None:
    assert Exposure(BUYER, "INR", Decimal(5)).minus(Decimal(7)).open == 0


def test_a_limit_is_set_with_a_reason_and_counts_its_versions() -> None:
    with pytest.raises(InvalidInput, match="reason"):
        CreditLimit(BUYER, Money("INR", Decimal(1)), " ", "risk.officer", NOW)
    raised = LIMIT.changed(Money("INR", Decimal(2)), reason="more volume", by="cro", at=NOW)
    assert (raised.version, raised.set_by, raised.limit.amount) == (2, "cro", 2)


def test_ratings_run_from_one_down_to_zero() -> None:
    assert Rating.AAA.strength == 1
    assert Rating.D.strength == 0
    assert Rating.BBB.strength == pytest.approx(4 / 7)


def test_a_payment_record_counts_on_time_and_capped_days_late() -> None:
    record = PaymentRecord().with_payment(0).with_payment(10).with_payment(400)
    assert (record.on_time, record.late, record.days_late) == (1, 2, 100)
    assert record.on_time_ratio == pytest.approx(1 / 3)
    assert record.average_days_late == pytest.approx(100 / 3)
    assert PaymentRecord().on_time_ratio is None
    with pytest.raises(InvalidInput):
        record.with_payment(-1)
