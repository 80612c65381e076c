"""Fan-out and delivery on the real PostgreSQL, to real HTTP receivers on 127.0.0.1.

Every delivery a receiver gets is verified with the `standardwebhooks` PyPI library, with the
secret the endpoint's registration showed. Schedules are seconds long here, not hours.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
import standardwebhooks

from mandi_contracts import PartnerApproved, TradeConfirmed
from mandi_messaging.registry import Event
from mandi_runtime import RunningService, SystemClock
from mandi_testing.receivers import Answer, ReceivedRequest, local_receiver
from mandi_webhook.adapters.sender import HttpSender
from mandi_webhook.config import Settings
from mandi_webhook.domain.circuits import BreakerPolicy
from mandi_webhook.service_layer import endpoints
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.dispatch import Dispatcher, DispatchPolicy
from mandi_webhook.service_layer.endpoints import Registration
from mandi_webhook.service_layer.fan_out import fan_out
from mandi_webhook.service_layer.views import EndpointWithSecretView
from mandi_webhooks import Resolver, RetrySchedule
from mandi_webhooks.http import delivery_client

_FAST = RetrySchedule(
    (timedelta(0), timedelta(seconds=0.3), timedelta(seconds=0.6), timedelta(seconds=0.9)), 0.0
)


Desk = Any  # conftest's: one tenant and its principals
OutboxEvents = Any  # conftest's: `await outbox_events(tenant)`


@pytest.fixture
def local_deps(
    service: RunningService[Settings, WebhookDependencies], dns: Resolver
) -> WebhookDependencies:
    """Real time, the test's DNS, and endpoints on 127.0.0.1 allowed (as in development)."""
    return replace(service.deps, resolve=dns, clock=SystemClock(), allow_local_endpoints=True)


Dispatching = Callable[..., Any]


@pytest.fixture
def dispatching(local_deps: WebhookDependencies) -> Dispatching:
    """`async with dispatching(**policy) as dispatcher`: a dispatcher running meanwhile."""

    @asynccontextmanager
    async def run(deadline: float = 2.0, **policy: Any) -> AsyncIterator[Dispatcher]:
        client = delivery_client(timeout=deadline, allow_loopback=True, resolve=local_deps.resolve)
        dispatcher = Dispatcher(
            uow=local_deps.uow,
            directory=local_deps.directory,
            clock=local_deps.clock,
            sender=HttpSender(client, deadline_seconds=deadline),
            policy=DispatchPolicy(**{"schedule": _FAST, "poll_seconds": 0.05, **policy}),
        )
        task = asyncio.create_task(dispatcher.run())
        try:
            yield dispatcher
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await client.aclose()

    return run


async def _register(
    deps: WebhookDependencies, desk: Desk, partner: UUID, url: str, **details: Any
) -> EndpointWithSecretView:
    registration = Registration(
        url=url,
        event_types=frozenset(details.pop("event_types", ())),
        description="",
        rate_limit=details.pop("rate_limit", 1000),
        ordered=details.pop("ordered", False),
    )
    answer = await endpoints.register_endpoint(
        deps, desk.partner(partner), registration, partner_id=partner
    )
    return answer.value


async def _publish(deps: WebhookDependencies, desk: Desk, event: Event) -> str:
    """Fans the event out as the consumer would; its id."""
    event_id = str(uuid4())
    now = deps.clock.now()
    async with deps.uow(desk.tenant) as uow:
        await fan_out(uow, event, event_id, now, now)
        await uow.commit()
    return event_id


def _trade(desk: Desk, buyer: UUID, seller: UUID) -> TradeConfirmed:
    return TradeConfirmed(
        tenant_id=desk.tenant,
        trade_id=uuid4(),
        buyer_id=buyer,
        seller_id=seller,
        saga_id=uuid4(),
        proposal_id=uuid4(),
        requirement_id=uuid4(),
        availability_id=uuid4(),
        commodity="wheat",
        grade="Lokwan",
        quantity=Decimal(10000),
        unit="kg",
        price=Decimal(6200),
        currency="INR",
        value=Decimal(620000),
        delivery_from=date(2030, 1, 1),
        delivery_to=date(2030, 1, 15),
        delivery_city="Mumbai",
        delivery_state="Maharashtra",
    )


def _approved(desk: Desk, partner: UUID) -> PartnerApproved:
    return PartnerApproved(tenant_id=desk.tenant, partner_id=partner, version=2, approved_by="ops")


def _verified(request: ReceivedRequest, secret: str) -> dict[str, Any]:
    """The delivery's JSON, if `standardwebhooks` verifies it with the secret."""
    verified: dict[str, Any] = standardwebhooks.Webhook(secret).verify(
        request.body, request.headers
    )
    return verified


async def test_a_trade_reaches_each_party_signed_and_never_the_others(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    buyer, seller, bystander = uuid4(), uuid4(), uuid4()
    async with (
        local_receiver() as to_buyer,
        local_receiver() as to_seller,
        local_receiver() as to_bystander,
    ):
        buyers = await _register(local_deps, desk, buyer, to_buyer.url)
        sellers = await _register(local_deps, desk, seller, to_seller.url)
        await _register(local_deps, desk, bystander, to_bystander.url)
        trade = _trade(desk, buyer, seller)
        async with dispatching():
            await _publish(local_deps, desk, trade)
            [for_buyer] = await to_buyer.wait_for(1)
            [for_seller] = await to_seller.wait_for(1)
            await asyncio.sleep(0.3)
        assert to_bystander.received == []
    buyer_view = _verified(for_buyer, buyers.secret)
    seller_view = _verified(for_seller, sellers.secret)
    assert buyer_view["type"] == "trade.confirmed"
    assert buyer_view["data"]["side"] == "buyer"
    assert buyer_view["data"]["counterparty_id"] == str(seller)
    assert seller_view["data"]["counterparty_id"] == str(buyer)
    assert str(bystander) not in for_buyer.body.decode() + for_seller.body.decode()
    assert for_buyer.headers["webhook-id"] != for_seller.headers["webhook-id"]


async def test_filters_choose_the_event_types_an_endpoint_receives(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()
    async with local_receiver() as trades_only, local_receiver() as everything:
        await _register(local_deps, desk, partner, trades_only.url, event_types=["trade.confirmed"])
        await _register(local_deps, desk, partner, everything.url)
        async with dispatching():
            await _publish(local_deps, desk, _approved(desk, partner))
            await _publish(local_deps, desk, _trade(desk, partner, uuid4()))
            await everything.wait_for(2)
            [only] = await trades_only.wait_for(1)
            await asyncio.sleep(0.3)
    assert json.loads(only.body)["type"] == "trade.confirmed"
    assert len(trades_only.received) == 1


async def test_an_event_consumed_twice_is_delivered_once(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()
    event = _approved(desk, partner)
    async with local_receiver() as receiver:
        await _register(local_deps, desk, partner, receiver.url)
        now = local_deps.clock.now()
        for _ in range(2):
            async with local_deps.uow(desk.tenant) as uow:
                await fan_out(uow, event, "the-same-event", now, now)
                await uow.commit()
        async with dispatching():
            await receiver.wait_for(1)
            await asyncio.sleep(0.5)
    assert len(receiver.received) == 1


async def test_a_receiver_failing_twice_gets_the_event_after_retries_with_the_same_id(
    local_deps: WebhookDependencies,
    desk: Desk,
    dispatching: Dispatching,
    outbox_events: OutboxEvents,
) -> None:
    partner = uuid4()

    def two_failures(number: int) -> Answer:
        return Answer(status=500) if number < 2 else Answer(status=200)

    async with local_receiver(two_failures) as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        async with dispatching():
            await _publish(local_deps, desk, _approved(desk, partner))
            requests = await receiver.wait_for(3)
            await asyncio.sleep(0.3)  # the success is recorded
    ids = {request.headers["webhook-id"] for request in requests}
    assert len(ids) == 1
    for request in requests:
        _verified(request, registered.secret)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    assert gaps[0] >= 0.25  # the schedule: 0.3 s,
    assert gaps[1] >= 0.55  # then 0.6 s
    succeeded = [
        payload
        for kind, _key, payload in await outbox_events(desk.tenant)
        if kind.startswith("mandi.webhook_delivery.succeeded")
    ]
    assert [each["attempts"] for each in succeeded] == [3]
    assert succeeded[0]["webhook_id"] == ids.pop()


async def test_a_delivery_failing_every_attempt_is_a_dead_letter_with_its_attempt_log(
    local_deps: WebhookDependencies,
    desk: Desk,
    dispatching: Dispatching,
    outbox_events: OutboxEvents,
) -> None:
    partner = uuid4()
    answer = Answer(status=502, body=b"upstream down " * 200)
    async with local_receiver(lambda _n: answer) as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        async with dispatching(breaker=BreakerPolicy(threshold=100)):
            await _publish(local_deps, desk, _approved(desk, partner))
            await receiver.wait_for(4)
            await asyncio.sleep(0.5)
    async with local_deps.uow(desk.tenant) as uow:
        [dead] = await uow.deliveries.page(registered.id, status=None, limit=10, after=None)
        attempts = await uow.deliveries.attempts(dead.id)
    assert dead.status == "dead"
    assert [each.result.status_code for each in attempts] == [502] * 4
    assert all(len(each.result.response_excerpt) == 1024 for each in attempts)
    assert all(each.result.latency_ms > 0 for each in attempts)
    exhausted = [
        payload
        for kind, _key, payload in await outbox_events(desk.tenant)
        if kind.startswith("mandi.webhook_delivery.exhausted")
    ]
    assert len(exhausted) == 1
    assert exhausted[0]["reason"] == "exhausted: HTTP 502"
