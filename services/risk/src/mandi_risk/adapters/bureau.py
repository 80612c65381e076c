"""The external credit bureau's score API, called through a timeout, retries and a breaker.

Nothing the bureau sends is trusted. An answer is read through a strict schema: an int score
300..900 (not "lots", not 712.5), an `as_of` with a UTC offset and not in the future, and the
subject that was asked about. Anything else is an invalid answer: not retried, but counted
against the breaker like an outage, since a bureau sending garbage is broken. Fields the schema
does not name are ignored, so the bureau may add some without taking the bureau factor down.

A 404 means the bureau holds no credit file on the partner (a new company, a thin file): an
answer, not a failure, so it never counts against the breaker.

`CreditBureau.score_of` never raises for the bureau: it answers a live `BureauReport`, or
`BureauUnavailable` saying why not. What an assessment does without a live score (a remembered
one, less for its age, or none) is decided where assessments are made, not here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from mandi_resilience import CallPolicy, CircuitOpen, GuardedCall
from mandi_risk.service_layer.dependencies import LiveScore

__all__ = [
    "BureauClient",
    "BureauReport",
    "BureauServerError",
    "BureauUnavailable",
    "CreditBureau",
    "InvalidBureauAnswer",
    "Unavailability",
]

_BACKOFF_INITIAL_SECONDS = 0.1
_BACKOFF_MAX_SECONDS = 1.0
_CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of ours the bureau's clock may run
_DETAIL_LENGTH = 300
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BureauReport:
    """A live score from the bureau, 300 (worst) to 900 (best), as it stood at `as_of`."""

    partner_id: UUID
    score: int
    as_of: datetime


class Unavailability(StrEnum):
    """Why there is no live report, in the words an assessment's rationale uses."""

    BREAKER_OPEN = "breaker open"
    TIMED_OUT = "timed out"
    UNREACHABLE = "unreachable"
    SERVER_ERROR = "server error"
    INVALID_ANSWER = "invalid answer"
    NO_CREDIT_FILE = "no credit file"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class BureauUnavailable:
    """No live report: `reason` for the rationale, `detail` for an operator (never a body)."""

    reason: Unavailability
    detail: str

    def __str__(self) -> str:
        return f"unavailable: {self.reason} ({self.detail})"


class BureauServerError(Exception):
    """The bureau answered 5xx or 429, worth another attempt; the status only, no body."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class InvalidBureauAnswer(Exception):
    """The bureau's answer does not fit the schema; the message says where, never what it was."""


class _Refused(Exception):
    """The bureau refused the request itself (a 4xx): our configuration or our bug."""


class _ScoreAnswer(BaseModel):
    """A score answer as it must be; strict, so no "712" or 712.5 passes for an int."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    subject: str
    score: int = Field(ge=300, le=900)
    as_of: AwareDatetime


class BureauClient:
    """The bureau's score API: one request and its answer checked, no retries of its own."""

    def __init__(
        self, base_url: str, *, token: str | None, backstop_timeout_seconds: float = 30.0
    ) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        # CreditBureau's per-attempt timeout governs; this only ends a call nothing guards.
        timeout = httpx.Timeout(backstop_timeout_seconds)
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)

    async def report(self, partner_id: UUID) -> BureauReport | None:
        """The bureau's report on the partner; None when it holds no file on it (404). Raises
        BureauServerError, InvalidBureauAnswer, httpx.TransportError, or another error for a
        refused request."""
        answer = await self._client.get(f"/v1/scores/{partner_id}")
        if answer.status_code == httpx.codes.NOT_FOUND:
            return None
        _raise_for_status(answer)
        return _report(partner_id, answer.content)

    async def aclose(self) -> None:
        """Closes the HTTP client's connections."""
        await self._client.aclose()


def _raise_for_status(answer: httpx.Response) -> None:
    if answer.status_code == httpx.codes.TOO_MANY_REQUESTS or answer.is_server_error:
        raise BureauServerError(answer.status_code)
    if answer.status_code != httpx.codes.OK:
        raise _Refused(f"HTTP {answer.status_code}")


def _report(partner_id: UUID, body: bytes) -> BureauReport:
    try:
        read = _ScoreAnswer.model_validate_json(body)
    except ValidationError as invalid:
        raise InvalidBureauAnswer(_where(invalid)) from None
    if read.subject != str(partner_id):
        raise InvalidBureauAnswer("subject: a report about someone else")
    if read.as_of > datetime.now(UTC) + _CLOCK_SKEW:
        raise InvalidBureauAnswer("as_of: in the future")
    return BureauReport(partner_id, read.score, read.as_of)


def _where(invalid: ValidationError) -> str:
    # Where and what was wrong, without the input: it may be anything, and is not ours to log.
    errors = invalid.errors(include_url=False, include_input=False, include_context=False)
    described = "; ".join(
        f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}" for error in errors
    )
    return described[:_DETAIL_LENGTH]


class CreditBureau:
    """The bureau behind a timeout, jittered retries and a circuit breaker; never raises for it.

    A call makes at most `attempts` attempts of `timeout_seconds` each; `breaker_fail_max`
    failed calls in a row open the breaker, and for `breaker_reset_seconds` calls are answered
    BREAKER_OPEN without reaching the bureau. Then one trial call goes through: its success
    closes the breaker, its failure opens it again.
    """

    def __init__(
        self,
        client: BureauClient,
        *,
        timeout_seconds: float,
        attempts: int,
        breaker_fail_max: int,
        breaker_reset_seconds: float,
    ) -> None:
        self._client = client
        # Room for every attempt and every wait between them: the deadline never cuts a call
        # shorter than its attempts.
        deadline = attempts * timeout_seconds + (attempts - 1) * _BACKOFF_MAX_SECONDS
        self._guard = GuardedCall(
            CallPolicy(
                name="credit-bureau",
                timeout_seconds=timeout_seconds,
                attempts=attempts,
                backoff_initial=_BACKOFF_INITIAL_SECONDS,
                backoff_max=_BACKOFF_MAX_SECONDS,
                deadline_seconds=deadline,
                retry_on=(httpx.TransportError, BureauServerError),
                breaker_fail_max=breaker_fail_max,
                breaker_reset_seconds=breaker_reset_seconds,
            )
        )

    @property
    def breaker_open(self) -> bool:
        """Whether the breaker is open: until its reset time, calls do not reach the bureau."""
        return self._guard.state == "open"

    async def score_of(self, partner_id: UUID) -> BureauReport | BureauUnavailable:
        """The bureau's live report on the partner, or why there is none. A bureau that holds
        no file on a partner answered: that is no failure, and never opens the breaker."""
        answer = await self._guard.call(
            lambda: self._client.report(partner_id), fallback=_unavailable
        )
        if answer is None:
            return BureauUnavailable(Unavailability.NO_CREDIT_FILE, "the bureau has no file on it")
        return answer

    async def live_score(self, partner_id: UUID) -> LiveScore | str:
        """What assessments ask (the `Bureau` port): a live score, or why there is none, in the
        words of the rationale."""
        answer = await self.score_of(partner_id)
        if isinstance(answer, BureauReport):
            return LiveScore(answer.score, answer.as_of)
        _log.info("no live bureau score: %s", answer)
        return answer.reason.value

    async def aclose(self) -> None:
        """Closes the client's connections."""
        await self._client.aclose()


# The first kind of error that matches says why; a timeout is also a transport error.
_REASONS: tuple[tuple[type[BaseException], Unavailability], ...] = (
    (CircuitOpen, Unavailability.BREAKER_OPEN),
    (TimeoutError, Unavailability.TIMED_OUT),
    (httpx.TimeoutException, Unavailability.TIMED_OUT),
    (httpx.TransportError, Unavailability.UNREACHABLE),
    (BureauServerError, Unavailability.SERVER_ERROR),
    (InvalidBureauAnswer, Unavailability.INVALID_ANSWER),
    (_Refused, Unavailability.REFUSED),
)


def _unavailable(error: BaseException) -> BureauUnavailable:
    reason = next((reason for kinds, reason in _REASONS if isinstance(error, kinds)), None)
    if reason is None:
        _log.error("the credit bureau call failed unexpectedly", exc_info=error)
        return BureauUnavailable(Unavailability.FAILED, type(error).__name__)
    return BureauUnavailable(reason, _detail(error))


def _detail(error: BaseException) -> str:
    if isinstance(error, CircuitOpen):
        return f"no calls for up to {error.retry_after_seconds} s after repeated failures"
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return "no answer in time"
    if isinstance(error, httpx.TransportError):
        return type(error).__name__
    return str(error)
