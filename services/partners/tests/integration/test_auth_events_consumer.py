"""partners takes auth's UserCreated through its typed consumer: a partner's staff are linked.

FastStream's in-memory Kafka (TestKafkaBroker) delivers to the service's own consumer group,
with the service's own unit of work, on the real PostgreSQL of this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from uuid import UUID, uuid4

import pytest
from faststream.kafka import KafkaBroker

from mandi_contracts import EVENTS
from mandi_contracts.auth import UserCreated
from mandi_messaging import Envelope, events_topic
from mandi_partners.config import Settings
from mandi_partners.entrypoints.consumers import consumers
from mandi_partners.entrypoints.service import DEFINITION, PartnersRunning
from mandi_partners.service_layer import partners, staff
from mandi_runtime import asyncapi_of, running
from mandi_security import Principal, PrincipalType
from mandi_testing.messaging import (
    DeadLetterRecorder,
    delivering_in_memory,
    envelope_of,
    publish_envelope,
)

pytestmark = pytest.mark.integration

AUTH_TOPIC = events_topic("auth")


class DeadLetters(DeadLetterRecorder):
    """The group's dead letters, kept here: Kafka is in memory in these tests."""

    def __init__(self) -> None:
        super().__init__("partners")


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[PartnersRunning]:
    """The service's use cases on this module's database, without background jobs."""
    async with running(DEFINITION, settings, background=False) as started:
        yield started


def delivering(
    service: PartnersRunning, dead_letters: DeadLetters
) -> AbstractAsyncContextManager[KafkaBroker]:
    unit_of_work = service.wiring.consumer_unit_of_work
    assert unit_of_work is not None
    return delivering_in_memory(consumers, service.database.sessions, unit_of_work, dead_letters)


def _staff_user(tenant: UUID, partner_id: UUID | None) -> UserCreated:
    kind = "external" if partner_id else "internal"
    return UserCreated(
        tenant_id=tenant, user_id=uuid4(), user_type=kind, partner_id=partner_id, roles=["trader"]
    )


def _envelope(event: UserCreated, tenant: UUID) -> Envelope:
    return envelope_of(event, subject=str(event.user_id), registry=EVENTS, tenant_id=tenant)


def _reviewer(tenant: UUID) -> Principal:
    return Principal(tenant, "reviewer-1", PrincipalType.INTERNAL, None, frozenset({"*"}))


async def _registered(service: PartnersRunning, tenant: UUID, new_registration) -> UUID:
    outcome = await partners.register(service.deps, _reviewer(tenant), new_registration())
    return outcome.view.id


async def test_a_user_auth_creates_for_a_partner_is_linked_to_its_staff_once(
    service: PartnersRunning, new_registration
) -> None:
    tenant = uuid4()
    partner_id = await _registered(service, tenant, new_registration)
    created = _staff_user(tenant, partner_id)
    envelope = _envelope(created, tenant)

    async with delivering(service, DeadLetters()) as broker:
        await publish_envelope(broker, AUTH_TOPIC, envelope)
        await publish_envelope(broker, AUTH_TOPIC, envelope)  # delivered again: applied once

    shown = await staff.partner_staff(service.deps, _reviewer(tenant), partner_id)
    assert [(member.user_id, member.roles) for member in shown] == [(created.user_id, ["trader"])]
    assert shown[0].linked_at == envelope.time


async def test_operator_staff_belong_to_no_partner_and_another_tenant_sees_nobody(
    service: PartnersRunning, new_registration
) -> None:
    tenant = uuid4()
    partner_id = await _registered(service, tenant, new_registration)
    dead_letters = DeadLetters()

    async with delivering(service, dead_letters) as broker:
        await publish_envelope(broker, AUTH_TOPIC, _envelope(_staff_user(tenant, None), tenant))
        await publish_envelope(
            broker, AUTH_TOPIC, _envelope(_staff_user(tenant, partner_id), tenant)
        )

    assert dead_letters.records == []
    assert len(await staff.partner_staff(service.deps, _reviewer(tenant), partner_id)) == 1
    assert await staff.partner_staff(service.deps, _reviewer(uuid4()), partner_id) == []


async def test_an_event_naming_another_tenant_than_its_envelope_is_dead_lettered_unapplied(
    service: PartnersRunning, new_registration
) -> None:
    tenant, claimed = uuid4(), uuid4()
    partner_id = await _registered(service, tenant, new_registration)
    forged = _staff_user(claimed, partner_id)  # the data says one tenant, the envelope another
    dead_letters = DeadLetters()

    async with delivering(service, dead_letters) as broker:
        await publish_envelope(broker, AUTH_TOPIC, _envelope(forged, tenant))

    assert [error for _, error in dead_letters.records] == ["PermanentFailure"]
    assert await staff.partner_staff(service.deps, _reviewer(tenant), partner_id) == []


def test_the_asyncapi_document_shows_what_partners_consumes_and_publishes() -> None:
    document = asyncapi_of(DEFINITION)
    schemas = document["components"]["schemas"]
    assert "UserCreated" in schemas
    assert {"PartnerApproved", "PartnerRegistered"} <= set(schemas)
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {AUTH_TOPIC, events_topic("partners")}
