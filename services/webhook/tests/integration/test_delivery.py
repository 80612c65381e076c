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

import asyncpg
import pytest
import standardwebhooks

from mandi_contracts import (
    PartnerApproved,
    PartnerReinstated,
    PartnerSuspended,
    TradeConfirmed,
)
from mandi_errors import Conflict, NotFound
from mandi_messaging.registry import Event
from mandi_observability import bound_context
from mandi_runtime import RunningService, SystemClock
from mandi_testing.receivers import Answer, ReceivedRequest, local_receiver
from mandi_webhook.adapters.sender import HttpSender
from mandi_webhook.config import Settings
from mandi_webhook.domain.circuits import BreakerPolicy
from mandi_webhook.domain.deliveries import DeliveryStatus
from mandi_webhook.service_layer import deliveries, endpoints
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


async def test_a_dead_endpoint_opens_its_breaker_while_a_healthy_one_keeps_its_pace(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    healthy_partner, dead_partner = uuid4(), uuid4()
    stalled = Answer(stall_seconds=5.0)
    async with local_receiver() as healthy, local_receiver(lambda _n: stalled) as dead:
        await _register(local_deps, desk, healthy_partner, healthy.url)
        await _register(local_deps, desk, dead_partner, dead.url)
        policy = {"deadline": 0.5, "per_endpoint": 4, "breaker": BreakerPolicy(threshold=3)}
        async with dispatching(**policy):
            started = asyncio.get_running_loop().time()
            for _ in range(40):
                await _publish(local_deps, desk, _approved(desk, dead_partner))
                await _publish(local_deps, desk, _approved(desk, healthy_partner))
                await asyncio.sleep(0.02)
            received = await healthy.wait_for(40, timeout=5)
            healthy_took = received[-1].at - received[0].at
            await asyncio.sleep(1.0)
        elapsed = asyncio.get_running_loop().time() - started
    # The healthy endpoint got every event as they came (40 over ~0.8 s), never waiting on the
    # dead one; the dead one got its share (4 at once), then the breaker shut it off.
    assert healthy_took < 1.5
    assert len(dead.received) <= 8
    assert elapsed < 5


async def test_a_410_disables_the_endpoint_and_kills_the_delivery(
    local_deps: WebhookDependencies,
    desk: Desk,
    dispatching: Dispatching,
    outbox_events: OutboxEvents,
) -> None:
    partner = uuid4()
    async with local_receiver(lambda _n: Answer(status=410)) as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        async with dispatching():
            await _publish(local_deps, desk, _approved(desk, partner))
            await receiver.wait_for(1)
            await asyncio.sleep(0.3)
            await _publish(local_deps, desk, _approved(desk, partner))
            await asyncio.sleep(0.5)
    view = await endpoints.endpoint(local_deps, desk.operator, registered.id)
    assert not view.enabled
    assert view.disabled_reason == "The endpoint answered a delivery with 410 Gone."
    assert len(receiver.received) == 1  # nothing more once disabled
    kinds = [kind for kind, _key, _payload in await outbox_events(desk.tenant)]
    assert any(kind.startswith("mandi.webhook_endpoint.disabled") for kind in kinds)
    assert any(kind.startswith("mandi.webhook_delivery.exhausted") for kind in kinds)


async def test_a_429_with_retry_after_is_waited_for(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()

    def busy_once(number: int) -> Answer:
        return Answer(status=429, headers=(("Retry-After", "2"),)) if number == 0 else Answer()

    async with local_receiver(busy_once) as receiver:
        await _register(local_deps, desk, partner, receiver.url)
        async with dispatching():
            await _publish(local_deps, desk, _approved(desk, partner))
            first, second = await receiver.wait_for(2, timeout=6)
    # The schedule's next step is 0.3 s; the receiver asked for 2 s, and got them.
    assert second.at - first.at >= 1.9
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


async def test_the_address_is_checked_again_when_delivering(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    """A host that resolved to a public address at registration now resolves to a private one
    (DNS rebinding): the delivery is refused before a connection is made."""
    partner = uuid4()
    registered = await _register(
        local_deps, desk, partner, "http://hooks.public.example:9/hooks", event_types=[]
    )
    async with dispatching(deadline=1.0) as dispatcher:
        dispatcher._sender._client = delivery_client(allow_loopback=True, resolve=_now_private)
        await _publish(local_deps, desk, _approved(desk, partner))
        await asyncio.sleep(0.5)
    async with local_deps.uow(desk.tenant) as uow:
        [delivery] = await uow.deliveries.page(registered.id, status=None, limit=1, after=None)
        [attempt, *_] = await uow.deliveries.attempts(delivery.id)
    assert attempt.result.status_code is None
    assert attempt.result.error.startswith("address refused")


async def _now_private(_host: str) -> list[str]:
    return ["10.1.2.3"]


async def test_a_replay_redelivers_with_the_same_id_and_body(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()
    async with local_receiver() as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        async with dispatching():
            await _publish(local_deps, desk, _approved(desk, partner))
            [first] = await receiver.wait_for(1)
            await asyncio.sleep(0.3)
            [listed] = (await deliveries.list_deliveries(local_deps, desk.operator, registered.id))[
                0
            ]
            await deliveries.replay(local_deps, desk.partner(partner), registered.id, listed.id)
            _first, again = await receiver.wait_for(2)
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.body == first.body
    _verified(again, registered.secret)


async def test_a_delivery_on_its_way_is_not_replayed(
    local_deps: WebhookDependencies, desk: Desk
) -> None:
    partner = uuid4()
    registered = await _register(local_deps, desk, partner, "http://127.0.0.1:9/hooks")
    await _publish(local_deps, desk, _approved(desk, partner))
    [pending] = (await deliveries.list_deliveries(local_deps, desk.operator, registered.id))[0]
    with pytest.raises(Conflict):
        await deliveries.replay(local_deps, desk.operator, registered.id, pending.id)
    with pytest.raises(NotFound):  # another partner's endpoint does not exist for it
        await deliveries.replay(local_deps, desk.partner(), registered.id, pending.id)


async def test_recovering_sends_every_dead_delivery_since_a_moment_again(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()
    outage = {"over": False}

    def down_until_over(_number: int) -> Answer:
        return Answer() if outage["over"] else Answer(status=503)

    async with local_receiver(down_until_over) as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        since = local_deps.clock.now()
        async with dispatching(breaker=BreakerPolicy(threshold=100)):
            for _ in range(3):
                await _publish(local_deps, desk, _approved(desk, partner))
            await receiver.wait_for(12)  # four attempts each
            await asyncio.sleep(0.3)
            dead, _next = await deliveries.list_deliveries(
                local_deps, desk.operator, registered.id, status=DeliveryStatus.DEAD
            )
            outage["over"] = True
            answer = await deliveries.recover(
                local_deps, desk.partner(partner), registered.id, since
            )
            await receiver.wait_for(15)
            await asyncio.sleep(0.3)
    assert len(dead) == 3
    assert answer.value.recovered == 3
    recovered_ids = {request.headers["webhook-id"] for request in receiver.received[12:]}
    assert recovered_ids == {each.webhook_id for each in dead}
    succeeded, _next = await deliveries.list_deliveries(
        local_deps, desk.operator, registered.id, status=DeliveryStatus.SUCCEEDED
    )
    assert len(succeeded) == 3


async def test_an_ordered_endpoint_receives_one_at_a_time_in_order_despite_failures(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()

    def first_fails_once(number: int) -> Answer:
        return Answer(status=500) if number == 0 else Answer()

    async with local_receiver(first_fails_once) as receiver:
        await _register(local_deps, desk, partner, receiver.url, ordered=True)
        events = [_approved(desk, partner) for _ in range(5)]
        statuses = ["approved", "suspended", "reinstated", "suspended", "reinstated"]
        async with dispatching():
            for event, status in zip(events, statuses, strict=True):
                await _publish(local_deps, desk, _status(desk, partner, status, event))
            received = await receiver.wait_for(6)
    sent = [json.loads(request.body)["data"]["status"] for request in received]
    assert sent == ["approved", *statuses]  # the first twice (it failed), then the rest in order


def _status(desk: Desk, partner: UUID, status: str, approved: PartnerApproved) -> Event:
    if status == "approved":
        return approved
    if status == "suspended":
        return PartnerSuspended(
            tenant_id=desk.tenant, partner_id=partner, version=3, suspended_by="ops"
        )
    return PartnerReinstated(
        tenant_id=desk.tenant, partner_id=partner, version=4, reinstated_by="ops"
    )


async def test_nothing_is_lost_when_the_dispatcher_stops_in_the_middle_of_a_schedule(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    """The first dispatcher fails one attempt and stops (the process restarting); the next one
    finds the delivery in the database and delivers it at its scheduled time."""
    partner = uuid4()

    def fails_first(number: int) -> Answer:
        return Answer(status=503) if number == 0 else Answer()

    async with local_receiver(fails_first) as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        async with dispatching():
            await _publish(local_deps, desk, _approved(desk, partner))
            await receiver.wait_for(1)
            await asyncio.sleep(0.1)  # its failure recorded, its retry 0.3 s away
        assert len(receiver.received) == 1
        async with dispatching():
            first, second = await receiver.wait_for(2, timeout=5)
            await asyncio.sleep(0.3)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [delivered] = (await deliveries.list_deliveries(local_deps, desk.operator, registered.id))[0]
    assert (delivered.status, delivered.attempts) == ("succeeded", 2)


async def test_a_rotation_signs_with_both_secrets_during_the_overlap(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()
    async with local_receiver() as receiver:
        registered = await _register(local_deps, desk, partner, receiver.url)
        rotated = await endpoints.rotate_secret(
            local_deps, desk.partner(partner), registered.id, timedelta(hours=1)
        )
        async with dispatching(endpoint_cache_seconds=0.0):
            await _publish(local_deps, desk, _approved(desk, partner))
            [request] = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert _verified(request, registered.secret) == _verified(request, rotated.value.secret)


async def test_an_endpoint_rate_limit_spaces_its_deliveries(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching
) -> None:
    partner = uuid4()
    async with local_receiver() as receiver:
        await _register(local_deps, desk, partner, receiver.url, rate_limit=5)
        async with dispatching():
            for _ in range(10):
                await _publish(local_deps, desk, _approved(desk, partner))
            received = await receiver.wait_for(10, timeout=8)
    # A burst of five at once, then the other five after the bucket refilled (held back 1 s).
    assert received[-1].at - received[0].at >= 0.9


async def test_what_a_delivery_causes_carries_the_correlation_of_the_event_it_delivers(
    local_deps: WebhookDependencies, desk: Desk, dispatching: Dispatching, database: Any
) -> None:
    partner = uuid4()
    async with local_receiver(lambda _n: Answer(status=410)) as receiver:
        await _register(local_deps, desk, partner, receiver.url)
        async with dispatching():
            with bound_context(correlation_id="trade-conversation-1"):
                await _publish(local_deps, desk, _approved(desk, partner))
            await receiver.wait_for(1)
            await asyncio.sleep(0.3)
    connection = await asyncpg.connect(database.owner_url)
    try:
        rows = await connection.fetch(
            "SELECT event_type, correlation_id, traceparent FROM outbox"
            " WHERE tenant_id = $1 AND event_type NOT LIKE '%endpoint.created%'",
            str(desk.tenant),
        )
    finally:
        await connection.close()
    caused = {row["event_type"].split(".")[1]: row["correlation_id"] for row in rows}
    assert caused == {
        "webhook_delivery": "trade-conversation-1",
        "webhook_endpoint": "trade-conversation-1",
    }
    assert all(row["traceparent"] for row in rows)
