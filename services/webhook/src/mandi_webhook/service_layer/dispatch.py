"""The dispatcher: claims due deliveries from the database and sends them, many at once, each
endpoint behind its own breaker, rate limit and share of the connections.

It runs in every replica. Each round it claims due deliveries (`FOR UPDATE SKIP LOCKED`, so
replicas never take the same one) of endpoints that may receive now: none whose breaker is
open, whose rate limit is spent or whose share of this process's sends is taken. A dead
endpoint therefore holds at most its share of the sends for at most the breaker's threshold
of attempts, and the others go on at full speed. Each delivery is sent as a task of its own;
the results are recorded in batches, in one transaction per tenant, with their events.

Nothing lives only here: a claim is a lease in the database. If the process dies mid-attempt
the lease ends and another dispatcher (or this one, restarted) sends the delivery again, with
the same `webhook-id`, which is what receivers de-duplicate on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from mandi_contracts import WebhookDeliveryExhausted, WebhookDeliverySucceeded
from mandi_observability import continued_operation, get_logger
from mandi_runtime import Clock
from mandi_webhook.domain.circuits import BreakerPolicy, Circuits
from mandi_webhook.domain.deliveries import Attempt, AttemptResult, Delivery, Verdict
from mandi_webhook.domain.endpoints import Endpoint
from mandi_webhook.domain.throttle import TokenBucket
from mandi_webhook.service_layer.endpoints import disable_gone_endpoint
from mandi_webhook.service_layer.metrics import (
    ATTEMPT_DURATION,
    ATTEMPTS,
    DELIVERIES_IN_FLIGHT,
    OPEN_CIRCUITS,
)
from mandi_webhook.service_layer.unit_of_work import (
    DirectoryFactory,
    UnitOfWorkFactory,
    WebhookUnitOfWork,
)
from mandi_webhooks import DEFAULT_RETRY_SCHEDULE, RetrySchedule, webhook_headers

__all__ = ["DispatchPolicy", "Dispatcher", "Sender"]

_log = get_logger("mandi.webhook.dispatch")
_HELD_BACK = timedelta(seconds=1)  # a claimed delivery its endpoint cannot take yet
_TENANTS_SECONDS = 5.0
_PAUSE_AFTER_FAILURE = 1.0


class Sender(Protocol):
    """Sends one signed delivery; what the receiver answered, or what failed (never raises)."""

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult: ...


@dataclass(frozen=True)
class DispatchPolicy:
    """How much the dispatcher sends at once, and how it waits."""

    concurrency: int = 64  # sends in flight in this process
    per_endpoint: int = 16  # of which one endpoint may hold
    claim_batch: int = 64
    lease: timedelta = timedelta(seconds=60)  # longer than any attempt's deadline
    poll_seconds: float = 1.0  # when nothing wakes it: retries coming due
    endpoint_cache_seconds: float = 2.0  # how soon a changed URL, secret or limit is used
    schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)


@dataclass(frozen=True)
class _Sent:
    tenant_id: UUID
    delivery: Delivery
    endpoint: Endpoint
    attempted_at: datetime
    result: AttemptResult


class Dispatcher:
    """Sends due deliveries until it is cancelled."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        directory: DirectoryFactory,
        clock: Clock,
        sender: Sender,
        policy: DispatchPolicy,
    ) -> None:
        self._uow, self._directory, self._clock = uow, directory, clock
        self._sender, self._policy = sender, policy
        self._circuits = Circuits(policy.breaker)
        self._buckets: dict[UUID, TokenBucket] = {}
        self._endpoints: dict[UUID, tuple[Endpoint, float]] = {}
        self._in_flight: Counter[UUID] = Counter()
        self._sending: set[asyncio.Task[None]] = set()
        self._results: list[_Sent] = []
        self._results_ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._tenants: tuple[list[UUID], float] = ([], 0.0)

    def wake(self) -> None:
        """Deliveries were made: claim now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Claims and sends, records results, and never stops for a failure (it pauses)."""
        recorder = asyncio.create_task(self._record_forever())
        try:
            while True:
                self._wake.clear()
                try:
                    claimed = await self.dispatch_once()
                except Exception:  # noqa: BLE001 - a database that blinks pauses the loop only
                    _log.exception("claiming deliveries failed; trying again")
                    await asyncio.sleep(_PAUSE_AFTER_FAILURE)
                    continue
                if not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._policy.poll_seconds)
        finally:
            recorder.cancel()
            await self._drain()

    async def dispatch_once(self) -> int:
        """One round over the tenants: claims what may go now, starts sending it; how many
        were claimed (zero: nothing is due, or every send is taken)."""
        claimed = 0
        for tenant_id in await self._known_tenants():
            free = self._policy.concurrency - sum(self._in_flight.values())
            if free <= 0:
                break
            claimed += await self._claim_and_send(tenant_id, min(free, self._policy.claim_batch))
        return claimed

    async def _claim_and_send(self, tenant_id: UUID, limit: int) -> int:
        now, moment = self._clock.now(), time.monotonic()
        excluded = self._unable(now, moment)
        async with self._uow(tenant_id) as uow:
            due = await uow.deliveries.claim(
                now=now, lease_until=now + self._policy.lease, limit=limit, excluded=excluded
            )
            endpoints = await self._endpoints_of(uow, due, moment)
            going, held = self._admitted(due, endpoints, now, moment)
            await uow.deliveries.release([each.id for each in held], now + _HELD_BACK)
            await uow.commit()
        for delivery in going:
            self._start(tenant_id, delivery, endpoints[delivery.endpoint_id])
        return len(due)

    def _unable(self, now: datetime, moment: float) -> set[UUID]:
        """Endpoints that may receive nothing now: breaker open, share taken, limit spent."""
        unable = self._circuits.closed_to(now)
        OPEN_CIRCUITS.set(len(unable))
        unable.update(
            each for each, count in self._in_flight.items() if count >= self._policy.per_endpoint
        )
        unable.update(each for each, bucket in self._buckets.items() if bucket.empty(moment))
        return unable

    async def _endpoints_of(
        self, uow: WebhookUnitOfWork, due: Sequence[Delivery], moment: float
    ) -> dict[UUID, Endpoint]:
        """The endpoints of the claimed deliveries, from the cache while it is fresh."""
        wanted = {each.endpoint_id for each in due}
        fresh = moment - self._policy.endpoint_cache_seconds
        stale = {each for each in wanted if self._endpoints.get(each, (None, -1.0))[1] < fresh}
        for endpoint in await uow.endpoints.get_many(stale):
            self._endpoints[endpoint.id] = (endpoint, moment)
        return {each: self._endpoints[each][0] for each in wanted if each in self._endpoints}

    def _admitted(
        self,
        due: Sequence[Delivery],
        endpoints: dict[UUID, Endpoint],
        now: datetime,
        moment: float,
    ) -> tuple[list[Delivery], list[Delivery]]:
        """The claimed deliveries that go now, and those their endpoint cannot take yet."""
        going: list[Delivery] = []
        held: list[Delivery] = []
        for delivery in due:
            endpoint = endpoints.get(delivery.endpoint_id)
            admitted = (
                endpoint is not None
                and self._in_flight[endpoint.id] < self._policy.per_endpoint
                and self._bucket(endpoint, moment).take(moment)
                and self._circuits.admits(endpoint.id, now)
            )
            if admitted:
                self._in_flight[delivery.endpoint_id] += 1
                going.append(delivery)
            else:
                held.append(delivery)
        return going, held

    def _bucket(self, endpoint: Endpoint, moment: float) -> TokenBucket:
        bucket = self._buckets.get(endpoint.id)
        if bucket is None:
            bucket = self._buckets[endpoint.id] = TokenBucket.full(endpoint.rate_limit, moment)
        elif bucket.rate != endpoint.rate_limit:
            bucket.limit_to(endpoint.rate_limit)
        return bucket

    def _start(self, tenant_id: UUID, delivery: Delivery, endpoint: Endpoint) -> None:
        task = asyncio.create_task(self._send(tenant_id, delivery, endpoint))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        DELIVERIES_IN_FLIGHT.set(len(self._sending))

    async def _send(self, tenant_id: UUID, delivery: Delivery, endpoint: Endpoint) -> None:
        try:
            with continued_operation(
                "webhook.deliver",
                correlation_id=delivery.correlation_id,
                traceparent=delivery.traceparent,
            ):
                attempted_at = self._clock.now()
                headers = webhook_headers(
                    delivery.webhook_id,
                    int(attempted_at.timestamp()),
                    delivery.body,
                    endpoint.signing_secrets(attempted_at),
                )
                result = await self._sender.send(endpoint.url, headers, delivery.body)
        finally:
            self._in_flight[endpoint.id] -= 1
            if self._in_flight[endpoint.id] <= 0:
                del self._in_flight[endpoint.id]
            self._wake.set()  # a send is free again
        ATTEMPT_DURATION.observe(result.latency_ms / 1000)
        self._circuits.record(endpoint.id, result, self._clock.now())
        self._results.append(_Sent(tenant_id, delivery, endpoint, attempted_at, result))
        self._results_ready.set()

    async def _record_forever(self) -> None:
        while True:
            await self._results_ready.wait()
            await self.record_results()

    async def record_results(self) -> None:
        """Records every result so far, one transaction per tenant; a tenant whose transaction
        failed keeps its results for the next try (its leases keep the deliveries meanwhile)."""
        self._results_ready.clear()
        waiting, self._results = self._results, []
        by_tenant: dict[UUID, list[_Sent]] = {}
        for sent in waiting:
            by_tenant.setdefault(sent.tenant_id, []).append(sent)
        for tenant_id, results in by_tenant.items():
            try:
                await self._record(tenant_id, results)
            except Exception:  # noqa: BLE001 - kept, and recorded once the database is back
                _log.exception("recording deliveries failed; trying again")
                self._results.extend(results)
                await asyncio.sleep(_PAUSE_AFTER_FAILURE)
                self._results_ready.set()

    async def _record(self, tenant_id: UUID, results: Sequence[_Sent]) -> None:
        async with self._uow(tenant_id) as uow:
            moved: list[tuple[Delivery, Attempt, Verdict]] = []
            for sent in results:
                ended_at = sent.attempted_at + timedelta(milliseconds=sent.result.latency_ms)
                after, verdict = sent.delivery.after(sent.result, ended_at, self._policy.schedule)
                moved.append((after, Attempt(after.id, sent.attempted_at, sent.result), verdict))
            await uow.deliveries.record([(after, attempt) for after, attempt, _ in moved])
            for (after, attempt, verdict), sent in zip(moved, results, strict=True):
                if verdict is Verdict.RETRY:
                    continue
                # What a delivery's end causes carries on the conversation of its event.
                with continued_operation(
                    "webhook.delivery_ended",
                    correlation_id=after.correlation_id,
                    traceparent=after.traceparent,
                ):
                    await self._announce(uow, after, attempt.result, verdict)
                    if verdict is Verdict.GONE:
                        await disable_gone_endpoint(uow, sent.endpoint.id, self._clock.now())
                        self._endpoints.pop(sent.endpoint.id, None)
            await uow.commit()
        for _after, _attempt, verdict in moved:
            ATTEMPTS.labels(verdict.value).inc()

    async def _announce(
        self, uow: WebhookUnitOfWork, after: Delivery, result: AttemptResult, verdict: Verdict
    ) -> None:
        identity = {
            "tenant_id": uow.tenant_id,
            "delivery_id": after.id,
            "endpoint_id": after.endpoint_id,
            "partner_id": after.partner_id,
            "webhook_id": after.webhook_id,
            "public_type": after.event_type,
            "attempts": after.attempts,
        }
        if verdict is Verdict.SUCCEEDED:
            event: WebhookDeliverySucceeded | WebhookDeliveryExhausted = WebhookDeliverySucceeded(
                **identity, status_code=result.status_code or 0
            )
        else:
            reason = "gone" if verdict is Verdict.GONE else "exhausted"
            event = WebhookDeliveryExhausted(**identity, reason=f"{reason}: {result.summary}")
        await uow.publish(event, subject=str(after.endpoint_id))

    async def _known_tenants(self) -> list[UUID]:
        tenants, read_at = self._tenants
        if time.monotonic() - read_at > _TENANTS_SECONDS:
            async with self._directory() as directory:
                tenants = await directory.tenants.all()
            self._tenants = (tenants, time.monotonic())
        return tenants

    async def _drain(self) -> None:
        """On stop: waits briefly for sends in flight and records what they got."""
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=5)
        with contextlib.suppress(Exception):
            await self.record_results()
