"""The credit bureau adapter against the fake bureau, a real HTTP server in its own process.

Short timeouts and reset times keep the module to a few seconds; the fake counts the requests
that reach it, which is how the breaker is seen keeping calls away from a broken bureau.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from prometheus_client import REGISTRY

from mandi_risk.adapters.bureau import (
    BureauClient,
    BureauReport,
    BureauUnavailable,
    CreditBureau,
    Unavailability,
)
from mandi_testing.fake_bureau import GARBAGE_KINDS, FakeBureau, derived_score, running_fake_bureau
from mandi_testing.processes import free_port

pytestmark = pytest.mark.integration

TOKEN = "bureau-test-token"
TIMEOUT_SECONDS = 0.3
ATTEMPTS = 2
FAIL_MAX = 3
RESET_SECONDS = 0.5
# tenacity's jittered waits between ATTEMPTS attempts stay below this with the adapter's backoff.
LONGEST_BACKOFF_SECONDS = 0.2 * (ATTEMPTS - 1)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeBureau]:
    """One fake bureau process for the module."""
    with running_fake_bureau(TOKEN, tmp_path_factory.mktemp("bureau")) as running:
        yield running


@pytest.fixture(autouse=True)
def bureau_answers_again(bureau: FakeBureau) -> Iterator[None]:
    """Each test leaves the fake answering normally for the next."""
    yield
    bureau.set_mode("ok")


def guarded(url: str, token: str = TOKEN) -> CreditBureau:
    return CreditBureau(
        BureauClient(url, token=token),
        timeout_seconds=TIMEOUT_SECONDS,
        attempts=ATTEMPTS,
        breaker_fail_max=FAIL_MAX,
        breaker_reset_seconds=RESET_SECONDS,
    )


@pytest.fixture
async def credit_bureau(bureau: FakeBureau) -> AsyncIterator[CreditBureau]:
    """A guarded client of the fake bureau, with a breaker of its own."""
    client = guarded(bureau.url)
    yield client
    await client.aclose()


def breaker_gauge() -> float | None:
    return REGISTRY.get_sample_value("mandi_circuit_breaker_state", {"breaker": "credit-bureau"})


def unavailable_because(answer: BureauReport | BureauUnavailable) -> Unavailability:
    assert isinstance(answer, BureauUnavailable), answer
    return answer.reason


async def trip(credit_bureau: CreditBureau, bureau: FakeBureau) -> None:
    bureau.set_mode("fail")
    for _ in range(FAIL_MAX):
        answer = await credit_bureau.score_of(uuid4())
        assert unavailable_because(answer) is Unavailability.SERVER_ERROR
    assert credit_bureau.breaker_open


async def test_a_live_score_is_read(credit_bureau: CreditBureau, bureau: FakeBureau) -> None:
    known, unknown = uuid4(), uuid4()
    as_of = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    bureau.set_score(str(known), 742, as_of)

    assert await credit_bureau.score_of(known) == BureauReport(known, 742, as_of)
    derived = await credit_bureau.score_of(unknown)
    assert isinstance(derived, BureauReport)
    assert derived.score == derived_score(str(unknown))
    assert abs(datetime.now(UTC) - derived.as_of) < timedelta(minutes=1)
    assert not credit_bureau.breaker_open
    assert bureau.calls(about=str(known)) == 1


async def test_the_breaker_opens_after_the_configured_failures_and_spares_the_bureau(
    credit_bureau: CreditBureau, bureau: FakeBureau
) -> None:
    partner = uuid4()
    bureau.set_mode("fail")

    for _ in range(FAIL_MAX - 1):
        answer = await credit_bureau.score_of(partner)
        assert answer == BureauUnavailable(Unavailability.SERVER_ERROR, "HTTP 503")
        assert not credit_bureau.breaker_open
    await credit_bureau.score_of(partner)
    assert credit_bureau.breaker_open
    assert breaker_gauge() == 2  # what the dashboards show for "open"
    assert bureau.calls(about=str(partner)) == FAIL_MAX * ATTEMPTS  # each 503 retried once

    for _ in range(5):
        refused = await credit_bureau.score_of(partner)
        assert unavailable_because(refused) is Unavailability.BREAKER_OPEN
        assert str(refused).startswith("unavailable: breaker open")
    assert bureau.calls(about=str(partner)) == FAIL_MAX * ATTEMPTS


async def test_the_breaker_half_opens_and_closes_when_the_bureau_returns(
    credit_bureau: CreditBureau, bureau: FakeBureau
) -> None:
    await trip(credit_bureau, bureau)
    partner = uuid4()

    await asyncio.sleep(RESET_SECONDS + 0.1)
    trial = await credit_bureau.score_of(partner)  # half-open: one trial call, still failing
    assert unavailable_because(trial) is Unavailability.SERVER_ERROR
    reopened = credit_bureau.breaker_open  # a name of its own: mypy would keep it True below
    assert reopened
    assert bureau.calls(about=str(partner)) == ATTEMPTS

    bureau.set_mode("ok")
    await asyncio.sleep(RESET_SECONDS + 0.1)
    answers = await asyncio.gather(*(credit_bureau.score_of(partner) for _ in range(3)))
    live = [answer for answer in answers if isinstance(answer, BureauReport)]
    assert len(live) == 1  # one trial reaches the recovering bureau, not a burst
    assert [unavailable_because(answer) for answer in answers if answer not in live] == [
        Unavailability.BREAKER_OPEN
    ] * 2
    assert bureau.calls(about=str(partner)) == ATTEMPTS + 1

    assert not credit_bureau.breaker_open
    assert breaker_gauge() == 0
    assert isinstance(await credit_bureau.score_of(partner), BureauReport)


async def test_a_slow_bureau_is_given_up_on_after_the_timeout(
    credit_bureau: CreditBureau, bureau: FakeBureau
) -> None:
    partner = uuid4()
    bureau.set_mode("slow", delay_seconds=1.5)

    started = time.monotonic()
    answer = await credit_bureau.score_of(partner)
    elapsed = time.monotonic() - started

    assert answer == BureauUnavailable(Unavailability.TIMED_OUT, "no answer in time")
    assert elapsed < TIMEOUT_SECONDS * ATTEMPTS + LONGEST_BACKOFF_SECONDS + 0.4
    assert elapsed >= TIMEOUT_SECONDS * ATTEMPTS * 0.9
    assert bureau.calls(about=str(partner)) == ATTEMPTS


@pytest.mark.parametrize("kind", sorted(GARBAGE_KINDS))
async def test_a_garbage_answer_is_rejected_not_trusted(
    credit_bureau: CreditBureau, bureau: FakeBureau, kind: str
) -> None:
    partner = uuid4()
    bureau.set_mode("garbage", garbage=kind)

    answer = await credit_bureau.score_of(partner)

    assert unavailable_because(answer) is Unavailability.INVALID_ANSWER
    assert bureau.calls(about=str(partner)) == 1  # garbage is not asked for again


async def test_garbage_counts_against_the_breaker(
    credit_bureau: CreditBureau, bureau: FakeBureau
) -> None:
    bureau.set_mode("garbage", garbage="wrong-type")

    answers = [await credit_bureau.score_of(uuid4()) for _ in range(FAIL_MAX)]

    assert unavailable_because(answers[0]) is Unavailability.INVALID_ANSWER
    assert str(answers[0]).startswith("unavailable: invalid answer (score: ")  # where, not what
    assert credit_bureau.breaker_open


async def test_no_credit_file_is_an_answer_that_never_opens_the_breaker(
    bureau: FakeBureau, credit_bureau: CreditBureau
) -> None:
    unknown = uuid4()
    bureau.hold_no_file_on(str(unknown))

    answers = [await credit_bureau.score_of(unknown) for _ in range(FAIL_MAX + 2)]

    assert {unavailable_because(answer) for answer in answers} == {Unavailability.NO_CREDIT_FILE}
    assert bureau.calls(str(unknown)) == FAIL_MAX + 2, "each asked once, none refused locally"
    assert not credit_bureau.breaker_open


async def test_a_wrong_token_is_refused_and_not_retried(bureau: FakeBureau) -> None:
    before = bureau.calls()
    wrong = guarded(bureau.url, token="not-the-token")
    try:
        answer = await wrong.score_of(uuid4())
    finally:
        await wrong.aclose()

    assert answer == BureauUnavailable(Unavailability.REFUSED, "HTTP 401")
    assert bureau.calls() == before + 1


async def test_an_unreachable_bureau_is_unavailable_not_an_error() -> None:
    nowhere = guarded(f"http://127.0.0.1:{free_port()}")
    try:
        answer = await nowhere.score_of(uuid4())
    finally:
        await nowhere.aclose()

    assert unavailable_because(answer) is Unavailability.UNREACHABLE
