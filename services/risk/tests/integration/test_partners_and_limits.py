"""What risk holds of partners: the read model from partners' events, and what risk officers
set (limits with their history, ratings, payments), refused to anyone else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from mandi_contracts import (
    EVENTS,
    PartnerApproved,
    PartnerRegistered,
    PartnerSuspended,
)
from mandi_db import IdempotencyKey
from mandi_errors import Conflict, PermissionDenied, PreconditionFailed, PreconditionRequired
from mandi_risk.domain.profile import Rating, Standing
from mandi_risk.service_layer import partners
from mandi_rules import Money
from mandi_security import Principal, PrincipalType
from mandi_testing.messaging import DeadLetterRecorder, envelope_of, publish_envelope

pytestmark = pytest.mark.integration


async def deliver(delivering: Any, tenant: Any, *events: Any) -> DeadLetterRecorder:
    dead_letters = DeadLetterRecorder("risk")
    async with delivering(dead_letters) as broker:
        for event in events:
            envelope = envelope_of(
                event, subject=str(event.partner_id), registry=EVENTS, tenant_id=tenant
            )
            await publish_envelope(broker, "mandi.partners.events", envelope)
    return dead_letters


def registered(tenant: Any, partner: Any, version: int, directors: list[str]) -> PartnerRegistered:
    return PartnerRegistered(
        tenant_id=tenant,
        partner_id=partner,
        version=version,
        group_id=None,
        director_fingerprints=directors,
        contact_fingerprints=[],
        partner_types=["buyer"],
        country="IN",
        tax_ids=[],
        registered_by="ops",
    )


async def test_partners_events_build_the_read_model_newest_wins(desk: Any, delivering: Any) -> None:
    tenant, partner = desk.tenant, uuid4()
    events = [
        registered(tenant, partner, 1, ["d-ravi"]),
        PartnerApproved(tenant_id=tenant, partner_id=partner, version=3, approved_by="ops"),
        PartnerSuspended(tenant_id=tenant, partner_id=partner, version=2, suspended_by="ops"),
    ]

    dead_letters = await deliver(delivering, tenant, *events)

    assert dead_letters.records == []
    view = await partners.partner_risk(desk.deps, desk.officer, partner)
    assert view.standing == Standing.APPROVED.value  # the older suspension changed nothing
    async with desk.deps.uow(tenant) as uow:
        profile = await uow.partners.get(partner)
    assert profile is not None
    assert (profile.director_fingerprints, profile.version) == (frozenset({"d-ravi"}), 3)


async def test_an_event_naming_another_tenant_is_dead_lettered(desk: Any, delivering: Any) -> None:
    partner = uuid4()
    lying = PartnerApproved(tenant_id=uuid4(), partner_id=partner, version=1, approved_by="x")

    dead_letters = await deliver(delivering, desk.tenant, lying)

    assert [reason for _, reason in dead_letters.records] == ["PermanentFailure"]
    async with desk.deps.uow(desk.tenant) as uow:
        assert await uow.partners.get(partner) is None


async def test_a_limit_is_set_changed_over_its_version_and_kept_in_history(desk: Any) -> None:
    partner = await desk.partner(limit=Decimal(1_000_000))

    with pytest.raises(PreconditionRequired):
        await partners.set_limit(
            desk.deps, desk.officer, partner, Money("INR", Decimal(2)), "more", if_match=None
        )
    with pytest.raises(PreconditionFailed):
        await partners.set_limit(
            desk.deps, desk.officer, partner, Money("INR", Decimal(2)), "more", if_match=7
        )
    raised = await partners.set_limit(
        desk.deps, desk.officer, partner, Money("INR", Decimal(2_500_000)), "more", if_match=1
    )

    assert (raised.value.version, raised.value.amount) == (2, Decimal(2_500_000))
    view = await partners.partner_risk(desk.deps, desk.officer, partner)
    assert [(v.version, v.amount, v.reason) for v in view.limit_history] == [
        (2, Decimal(2_500_000), "more"),
        (1, Decimal(1_000_000), "onboarding"),
    ]
    assert view.headroom == Decimal(2_500_000)


async def test_ratings_and_payments_are_recorded(desk: Any) -> None:
    partner = await desk.partner(rating=None)

    await partners.set_rating(desk.deps, desk.officer, partner, Rating.BBB)
    key = IdempotencyKey.from_header("risk.officer", "payment-1", "fingerprint")
    await partners.record_payment(desk.deps, desk.officer, partner, 0, key)
    replayed = await partners.record_payment(desk.deps, desk.officer, partner, 0, key)
    view = (await partners.record_payment(desk.deps, desk.officer, partner, 12)).value

    assert replayed.replayed, "a payment sent again with its key is recorded once"
    assert (view.rating, view.payments_on_time, view.payments_late) == ("BBB", 1, 1)
    assert view.average_days_late == 6


async def test_a_limit_keeps_its_currency(desk: Any) -> None:
    partner = await desk.partner(limit=Decimal(1_000_000))

    with pytest.raises(Conflict, match="keeps its currency"):
        await partners.set_limit(
            desk.deps, desk.officer, partner, Money("USD", Decimal(10_000)), "fx", if_match=1
        )


@pytest.mark.parametrize(
    "principal",
    [
        Principal(uuid4(), "erp", PrincipalType.EXTERNAL, uuid4(), frozenset({"*"})),
        Principal(uuid4(), "auditor", PrincipalType.INTERNAL, None, frozenset({"*:read"})),
    ],
)
async def test_only_risk_officers_set_limits(desk: Any, principal: Principal) -> None:
    with pytest.raises(PermissionDenied):
        await partners.set_limit(
            desk.deps, principal, uuid4(), Money("INR", Decimal(1)), "mine", if_match=None
        )
