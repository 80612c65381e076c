"""The standing read model catches up after its consumer was down, on the real Kafka: what the
partners service published meanwhile is applied, in order, when the group starts again.

The group and topic are the test's own (the service's handlers, registered on them), so no
other consumer of the shared `availability` group takes the records.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from mandi_availability.domain.standing import PartnerStanding, Standing
from mandi_availability.entrypoints import consumers as service_consumers
from mandi_contracts import EVENTS, PartnerApproved, PartnerSuspended
from mandi_messaging import (
    ConsumerRuntime,
    Consumers,
    RetryPolicy,
    create_producer,
)
from mandi_testing import eventually
from mandi_testing.messaging import (
    DeadLetterRecorder,
    consuming,
    envelope_of,
    send_envelopes,
)

pytestmark = pytest.mark.integration


def _group_on(topic: str) -> Consumers:
    """The service's partner handlers, as a group of the test's own on the test's topic."""
    group = Consumers(group=f"standing-{uuid4().hex[:8]}", topics=[topic], registry=EVENTS)
    group.on(PartnerApproved)(service_consumers.on_partner_approved)
    group.on(PartnerSuspended)(service_consumers.on_partner_suspended)
    return group


async def _standing(service: Any, tenant: UUID, partner: UUID) -> PartnerStanding | None:
    async with service.deps.uow(tenant) as uow:
        return await uow.standings.get(partner)


async def test_events_published_while_the_consumer_was_down_are_applied_when_it_is_back(
    service: Any,
    kafka_bootstrap_servers: str,
    make_topic: Callable[..., Awaitable[str]],
) -> None:
    topic = await make_topic(partitions=1)
    group = _group_on(topic)
    runtime = ConsumerRuntime(
        sessions=service.database.sessions,
        dead_letters=DeadLetterRecorder(group.group),
        unit_of_work=service.wiring.consumer_unit_of_work,
        retry=RetryPolicy(attempts=2, initial_backoff=0.01, max_backoff=0.02),
    )
    tenant, partner = uuid4(), uuid4()

    def published(event: Any) -> Any:
        return envelope_of(event, subject=str(partner), registry=EVENTS, tenant_id=tenant)

    producer = create_producer(kafka_bootstrap_servers, client_id="standing-tests")
    await producer.start()
    try:
        approved = PartnerApproved(tenant_id=tenant, partner_id=partner, version=3, approved_by="r")
        await send_envelopes(producer, topic, [published(approved)])  # before it ever ran
        async with consuming(kafka_bootstrap_servers, group, runtime):
            await eventually(lambda: _standing(service, tenant, partner), timeout=30)
        assert (await _standing(service, tenant, partner)).standing is Standing.APPROVED

        suspended = PartnerSuspended(
            tenant_id=tenant, partner_id=partner, version=4, suspended_by="r"
        )
        await send_envelopes(producer, topic, [published(suspended)])  # while it is down
        assert (await _standing(service, tenant, partner)).standing is Standing.APPROVED
        async with consuming(kafka_bootstrap_servers, group, runtime):
            await eventually(
                lambda: _standing_is(service, tenant, partner, Standing.SUSPENDED), timeout=30
            )
    finally:
        await producer.stop()
    assert await _standing(service, tenant, partner) == PartnerStanding(
        partner, Standing.SUSPENDED, 4
    )


async def _standing_is(service: Any, tenant: UUID, partner: UUID, standing: Standing) -> bool:
    found = await _standing(service, tenant, partner)
    return found is not None and found.standing is standing
