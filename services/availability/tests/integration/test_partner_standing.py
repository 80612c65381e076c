"""availability keeps each partner's standing from the partners service's events, through its
typed consumer: FastStream's in-memory Kafka delivers to the service's own group and unit of
work, on the real PostgreSQL of this module."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from faststream.kafka import KafkaBroker

from mandi_availability.domain.standing import PartnerStanding, Standing
from mandi_availability.entrypoints.service import DEFINITION
from mandi_contracts import (
    EVENTS,
    PartnerApproved,
    PartnerReinstated,
    PartnerSubmitted,
    PartnerSuspended,
)
from mandi_messaging import Event, commands_topic, events_topic, replies_topic
from mandi_runtime import asyncapi_of
from mandi_testing.messaging import DeadLetterRecorder, envelope_of, publish_envelope

pytestmark = pytest.mark.integration

PARTNERS_TOPIC = events_topic("partners")


async def _send(broker: KafkaBroker, event: Event, partner_id: UUID, tenant: UUID) -> None:
    envelope = envelope_of(event, subject=str(partner_id), registry=EVENTS, tenant_id=tenant)
    await publish_envelope(broker, PARTNERS_TOPIC, envelope)


async def _standing(service: Any, tenant: UUID, partner_id: UUID) -> PartnerStanding | None:
    async with service.deps.uow(tenant) as uow:
        return await uow.standings.get(partner_id)


async def test_a_partner_approved_then_suspended_then_reinstated_may_publish_again(
    service: Any, delivering: Any
) -> None:
    tenant, partner = uuid4(), uuid4()
    dead_letters = DeadLetterRecorder("availability")
    async with delivering(dead_letters) as broker:
        await _send(
            broker,
            PartnerApproved(tenant_id=tenant, partner_id=partner, version=3, approved_by="r"),
            partner,
            tenant,
        )
        assert await _standing(service, tenant, partner) == PartnerStanding(
            partner, Standing.APPROVED, 3
        )
        await _send(
            broker,
            PartnerSuspended(tenant_id=tenant, partner_id=partner, version=4, suspended_by="r"),
            partner,
            tenant,
        )
        assert (await _standing(service, tenant, partner)).standing is Standing.SUSPENDED
        await _send(
            broker,
            PartnerReinstated(tenant_id=tenant, partner_id=partner, version=5, reinstated_by="r"),
            partner,
            tenant,
        )
    assert await _standing(service, tenant, partner) == PartnerStanding(
        partner, Standing.APPROVED, 5
    )
    assert dead_letters.records == []


async def test_an_older_event_replayed_late_does_not_undo_a_newer_one(
    service: Any, delivering: Any
) -> None:
    tenant, partner = uuid4(), uuid4()
    async with delivering(DeadLetterRecorder("availability")) as broker:
        await _send(
            broker,
            PartnerSuspended(tenant_id=tenant, partner_id=partner, version=6, suspended_by="r"),
            partner,
            tenant,
        )
        await _send(
            broker,
            PartnerApproved(tenant_id=tenant, partner_id=partner, version=3, approved_by="r"),
            partner,
            tenant,
        )
    assert await _standing(service, tenant, partner) == PartnerStanding(
        partner, Standing.SUSPENDED, 6
    )


async def test_events_it_does_not_need_pass_by_and_other_tenants_see_nothing(
    service: Any, delivering: Any
) -> None:
    tenant, partner = uuid4(), uuid4()
    dead_letters = DeadLetterRecorder("availability")
    async with delivering(dead_letters) as broker:
        await _send(
            broker,
            PartnerSubmitted(tenant_id=tenant, partner_id=partner, version=2, submitted_by="s"),
            partner,
            tenant,
        )
        await _send(
            broker,
            PartnerApproved(tenant_id=tenant, partner_id=partner, version=3, approved_by="r"),
            partner,
            tenant,
        )
    assert dead_letters.records == []
    assert await _standing(service, tenant, partner) is not None
    assert await _standing(service, uuid4(), partner) is None


async def test_an_event_naming_another_tenant_than_its_envelope_is_dead_lettered_unapplied(
    service: Any, delivering: Any
) -> None:
    tenant, claimed, partner = uuid4(), uuid4(), uuid4()
    dead_letters = DeadLetterRecorder("availability")
    forged = PartnerApproved(tenant_id=claimed, partner_id=partner, version=3, approved_by="r")
    async with delivering(dead_letters) as broker:
        await _send(broker, forged, partner, tenant)
    assert [error for _, error in dead_letters.records] == ["PermanentFailure"]
    assert await _standing(service, tenant, partner) is None
    assert await _standing(service, claimed, partner) is None


def test_the_asyncapi_document_shows_what_availability_consumes_and_publishes() -> None:
    document = asyncapi_of(DEFINITION)
    schemas = document["components"]["schemas"]
    assert {"PartnerApproved", "PartnerSuspended", "PartnerReinstated"} <= set(schemas)
    assert {"CatalogChanged", "AvailabilityPublished", "RequirementPosted"} <= set(schemas)
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {
        PARTNERS_TOPIC,
        commands_topic("availability"),
        events_topic("availability"),
        replies_topic("availability"),
    }
    assert {"ReserveQuantity", "ReleaseQuantity"} <= set(schemas)
    assert {"QuantityReserved", "ReservationRefused", "QuantityReleased"} <= set(schemas)
