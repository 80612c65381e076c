"""Assessments on the real PostgreSQL with the fake credit bureau: a live bureau score, the
fallback while the bureau's breaker is open, outright rejections, and every decision kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from mandi_db import IdempotencyKey
from mandi_risk.domain.assessment import Proposal
from mandi_risk.service_layer import assessments
from mandi_rules import Money
from mandi_testing.fake_bureau import FakeBureau

pytestmark = pytest.mark.integration


def proposal(buyer: Any, seller: Any, value: str = "1000000.00") -> Proposal:
    return Proposal(buyer, seller, "cotton", Money("INR", Decimal(value)))


async def test_an_assessment_with_a_live_bureau_score_is_explained_and_kept(
    desk: Any, bureau: FakeBureau
) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    bureau.set_score(str(buyer), 780)

    made = (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))).value

    # Scorecard: headroom 0.9 -> 30, rating A -> 14.29, no payments yet -> 11.25 + 5,
    # all its exposure with this seller -> 0, bureau 780 -> 16: 76.5.
    assert (made.score, made.decision, made.model_name) == (77, "APPROVE", "scorecard")
    assert [factor.name for factor in made.factors] == [
        "credit_headroom",
        "rating",
        "on_time_ratio",
        "days_late",
        "concentration",
        "bureau",
    ]
    assert sum(factor.points for factor in made.factors) + made.base == pytest.approx(76.5, 0.01)
    assert made.bureau_live
    assert "bureau score 780, live" in made.rationale
    kept = await assessments.assessment(desk.deps, desk.officer, made.id)
    assert kept == made
    async with desk.deps.lookups(desk.tenant) as lookups:
        remembered = (await lookups.facts(buyer, seller)).bureau
    assert remembered is not None
    assert remembered[0] == 780


async def test_a_score_the_bureau_gave_recently_is_used_without_asking_again(
    desk: Any, bureau: FakeBureau
) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    bureau.set_score(str(buyer), 700)
    first = (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))).value
    calls = bureau.calls(str(buyer))

    again = (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))).value

    assert bureau.calls(str(buyer)) == calls == 1
    assert (first.bureau_live, again.bureau_live, again.bureau_score) == (True, False, 700)
    assert "bureau score 700 from 0 h ago, recent enough not to ask again" in again.rationale
    assert again.score == first.score  # a fresh score weighs as a live one


async def test_with_the_breaker_open_the_last_score_counts_less_and_the_rationale_says_so(
    desk: Any, bureau: FakeBureau
) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    never_scored = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    bureau.set_score(str(buyer), 780, as_of=datetime.now(UTC) - timedelta(days=60))
    await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))
    bureau.set_mode("fail")
    for _ in range(2):  # the breaker opens after two failed calls
        await assessments.assess(desk.deps, desk.officer, proposal(never_scored, seller))
    calls_while_open = bureau.calls()

    remembered = (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))).value
    unknown = (
        await assessments.assess(desk.deps, desk.officer, proposal(never_scored, seller))
    ).value

    assert bureau.calls() == calls_while_open, "no call reaches the bureau while it is open"
    assert not remembered.bureau_live
    assert "bureau score 780 remembered from 60 days ago (breaker open)" in remembered.rationale
    bureau_factor = next(f for f in remembered.factors if f.name == "bureau")
    assert bureau_factor.value == pytest.approx(0.8 - 0.1, abs=1e-3)  # 60 days: -0.1
    assert unknown.bureau_score is None
    assert "no bureau score (breaker open): the bureau factor is left out" in unknown.rationale


async def test_a_buyer_the_bureau_has_no_file_on_is_assessed_without_the_bureau_factor(
    desk: Any, bureau: FakeBureau
) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    bureau.hold_no_file_on(str(buyer))

    made = (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))).value

    assert made.bureau_score is None
    assert "no bureau score (no credit file): the bureau factor is left out" in made.rationale


async def test_insiders_are_rejected_whatever_the_score(desk: Any) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000), directors=frozenset({"d-meena"}))
    seller = await desk.partner(directors=frozenset({"d-meena"}))

    made = (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller))).value

    assert made.decision == "REJECT"
    assert "insiders to each other (shared_director)" in made.rationale


async def test_an_assessment_asked_twice_with_one_key_is_made_once(desk: Any) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    key = IdempotencyKey.from_header("risk.officer", "assess-7", "fingerprint")

    first = await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller), key)
    again = await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller), key)

    assert again.replayed
    assert again.value == first.value
    listed, _ = await assessments.assessments(
        desk.deps, desk.officer, buyer_id=buyer, limit=10, after=None
    )
    assert [made.id for made in listed] == [first.value.id]


async def test_assessments_are_listed_newest_first_a_page_at_a_time(desk: Any) -> None:
    buyer = await desk.partner(limit=Decimal(10_000_000))
    seller = await desk.partner()
    made = [
        (await assessments.assess(desk.deps, desk.officer, proposal(buyer, seller, v))).value.id
        for v in ("1.00", "2.00", "3.00")
    ]

    page, following = await assessments.assessments(
        desk.deps, desk.officer, buyer_id=buyer, limit=2, after=None
    )
    rest, end = await assessments.assessments(
        desk.deps, desk.officer, buyer_id=buyer, limit=2, after=following
    )

    assert [m.id for m in page + rest] == made[::-1]
    assert end is None


async def test_the_facts_of_a_proposal_are_read_in_one_query(desk: Any) -> None:
    buyer = await desk.partner(limit=Decimal(1_000_000))
    seller, stranger = await desk.partner(), uuid4()
    async with desk.deps.uow(desk.tenant) as uow:
        exposure = await uow.exposure.locked(buyer, "INR")
        await uow.exposure.save(exposure.plus(Decimal(250_000)))
        await uow.commit()

    async with desk.deps.lookups(desk.tenant) as lookups:
        known = await lookups.facts(buyer, seller)
        unknown = await lookups.facts(stranger, stranger)

    assert known.buyer is not None
    assert known.seller is not None
    assert (known.buyer.partner_id, known.seller.partner_id) == (buyer, seller)
    assert known.limit is not None
    assert (known.limit.limit.amount, known.limit.version) == (Decimal(1_000_000), 1)
    assert known.exposure is not None
    assert known.exposure.open == Decimal(250_000)
    assert (known.with_seller, known.bureau) == (0, None)
    assert (unknown.buyer, unknown.seller, unknown.limit, unknown.exposure) == (None,) * 4
