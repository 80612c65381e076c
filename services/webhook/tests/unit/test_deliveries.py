"""What each attempt decides for a delivery, the breaker per endpoint and the rate limit."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from mandi_contracts.public import Delivery as PublicDelivery
from mandi_contracts.public import PartnerStatusPayload
from mandi_errors import Conflict
from mandi_webhook.domain.circuits import BreakerPolicy, Circuits
from mandi_webhook.domain.deliveries import (
    AttemptResult,
    Delivery,
    DeliveryStatus,
    Verdict,
    message_body,
)
from mandi_webhook.domain.throttle import TokenBucket
from mandi_webhooks import RetrySchedule

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule((timedelta(0), timedelta(seconds=5), timedelta(minutes=5)), 0.0)


def _delivery() -> Delivery:
    partner = uuid4()
    public = PublicDelivery(
        partner,
        "msg_1",
        "partner.status_changed",
        1,
        PartnerStatusPayload(partner_id=partner, status="approved"),
    )
    return Delivery.new(uuid4(), public, message_body(public, NOW), NOW)


def _answered(status: int, retry_after: timedelta | None = None) -> AttemptResult:
    return AttemptResult(status_code=status, latency_ms=12.0, retry_after=retry_after)


def test_a_2xx_succeeds() -> None:
    after, verdict = _delivery().after(_answered(204), NOW, SCHEDULE)
    assert (verdict, after.status, after.attempts, after.last_error) == (
        Verdict.SUCCEEDED,
        DeliveryStatus.SUCCEEDED,
        1,
        "",
    )


def test_a_failure_waits_for_the_next_step_then_the_last_one_exhausts() -> None:
    first, verdict = _delivery().after(_answered(500), NOW, SCHEDULE)
    assert verdict is Verdict.RETRY
    assert first.next_attempt_at == NOW + timedelta(seconds=5)
    assert first.last_error == "HTTP 500"
    second, _ = first.after(_answered(500), NOW, SCHEDULE)
    assert second.next_attempt_at == NOW + timedelta(minutes=5)
    third, verdict = second.after(_answered(500), NOW, SCHEDULE)
    assert (verdict, third.status, third.attempts) == (Verdict.EXHAUSTED, DeliveryStatus.DEAD, 3)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_of_a_429_or_503_is_honoured(status: int) -> None:
    asked = timedelta(seconds=42)
    after, verdict = _delivery().after(_answered(status, asked), NOW, SCHEDULE)
    assert (verdict, after.next_attempt_at) == (Verdict.RETRY, NOW + asked)


def test_retry_after_of_another_status_is_not_what_decides() -> None:
    after, _ = _delivery().after(_answered(500, timedelta(hours=1)), NOW, SCHEDULE)
    assert after.next_attempt_at == NOW + timedelta(seconds=5)


def test_a_410_is_gone() -> None:
    after, verdict = _delivery().after(_answered(410), NOW, SCHEDULE)
    assert (verdict, after.status) == (Verdict.GONE, DeliveryStatus.DEAD)


def test_jitter_keeps_each_wait_near_its_step() -> None:
    jittered = RetrySchedule(SCHEDULE.delays, 0.1)
    waits = {
        _delivery().after(_answered(500), NOW, jittered, random.Random(seed))[0].next_attempt_at
        for seed in range(20)
    }
    assert len(waits) > 1
    assert all(
        NOW + timedelta(seconds=4.5) <= wait <= NOW + timedelta(seconds=5.5) for wait in waits
    )


def test_a_replay_starts_a_fresh_schedule_with_the_same_id_and_body() -> None:
    delivery = _delivery()
    dead, _ = delivery.after(_answered(410), NOW, SCHEDULE)
    replayed = dead.replayed(NOW + timedelta(hours=1))
    assert (replayed.status, replayed.attempts) == (DeliveryStatus.PENDING, 0)
    assert (replayed.webhook_id, replayed.body) == (delivery.webhook_id, delivery.body)
    with pytest.raises(Conflict):
        delivery.replayed(NOW)


def test_the_breaker_opens_after_the_threshold_probes_once_and_backs_off() -> None:
    circuits = Circuits(BreakerPolicy(threshold=3, cool_down=timedelta(seconds=5)))
    endpoint, failed = uuid4(), AttemptResult(None, 2000.0, error="no answer")
    opened = [circuits.record(endpoint, failed, NOW) for _ in range(3)]
    assert opened == [False, False, True]
    assert endpoint in circuits.closed_to(NOW + timedelta(seconds=4))
    later = NOW + timedelta(seconds=5)
    assert circuits.admits(endpoint, later)  # the probe
    assert not circuits.admits(endpoint, later)  # no second one while it is out
    assert circuits.record(endpoint, failed, later)  # the probe failed: open for twice as long
    assert circuits.is_open(endpoint, later + timedelta(seconds=9))
    assert not circuits.is_open(endpoint, later + timedelta(seconds=10))
    assert circuits.admits(endpoint, later + timedelta(seconds=10))
    assert not circuits.record(endpoint, _answered(200), later + timedelta(seconds=10))
    assert circuits.closed_to(later + timedelta(seconds=10)) == set()


def test_a_refusal_of_the_delivery_itself_does_not_count_against_the_endpoint() -> None:
    circuits = Circuits(BreakerPolicy(threshold=1))
    endpoint = uuid4()
    assert not circuits.record(endpoint, _answered(400), NOW)
    assert circuits.record(endpoint, _answered(429), NOW)


def test_a_token_bucket_allows_a_second_s_burst_then_its_rate() -> None:
    bucket = TokenBucket.full(5, 100.0)
    assert [bucket.take(100.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.empty(100.1)
    assert bucket.take(100.2)  # one token back after 1/5 s
    bucket.limit_to(1)
    assert bucket.tokens <= 1
