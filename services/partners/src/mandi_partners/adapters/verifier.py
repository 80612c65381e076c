"""The external KYC and tax-id verification API, called through a timeout, retries and a breaker.

Nothing here raises for an unreachable verifier: the fallback parks the application, and the
note says why in a reviewer's words. Tax ids and names go to the verifier and nowhere else:
not into logs, notes or errors.
"""

from __future__ import annotations

from typing import Any

import httpx

from mandi_partners.domain.partner import Verification
from mandi_partners.service_layer.verification import VerificationAnswer, VerificationRequest
from mandi_resilience import CallPolicy, CircuitOpen, GuardedCall

__all__ = ["HttpVerifier", "VerifierUnavailable"]

_OUTCOMES = {"passed": Verification.PASSED, "failed": Verification.FAILED}
_RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class VerifierUnavailable(Exception):
    """The verifier answered with an error status (the status only, no body)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _Misconfigured(Exception):
    """The verifier refused the request itself (4xx): our configuration or our bug."""


class HttpVerifier:
    """The Verifier port on the verifier's HTTP API."""

    def __init__(self, base_url: str, policy: CallPolicy, *, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        # The guard's per-attempt timeout governs; httpx's own is a backstop just above it.
        backstop = httpx.Timeout(policy.timeout_seconds + 1)
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=backstop)
        self._guard = GuardedCall(
            CallPolicy(
                **{
                    **policy.__dict__,
                    "retry_on": (httpx.TransportError, VerifierUnavailable),
                }
            )
        )

    async def verify(self, request: VerificationRequest) -> VerificationAnswer:
        """The verifier's answer, or PARKED with the reason it could not give one."""
        return await self._guard.call(lambda: self._ask(request), fallback=_parked)

    async def _ask(self, request: VerificationRequest) -> VerificationAnswer:
        answer = await self._client.post("/v1/verifications", json=_body(request))
        if answer.status_code in _RETRIED_STATUSES or answer.status_code >= 500:  # noqa: PLR2004
            raise VerifierUnavailable(answer.status_code)
        if answer.status_code != 200:  # noqa: PLR2004
            raise _Misconfigured(f"HTTP {answer.status_code}")
        return _answer(answer.json())

    async def aclose(self) -> None:
        """Closes the HTTP client's connections."""
        await self._client.aclose()


def _body(request: VerificationRequest) -> dict[str, Any]:
    return {
        "reference_id": str(request.partner_id),
        "legal_name": request.legal_name,
        "country": request.country,
        "tax_ids": [
            {"kind": tax_id.kind.value, "country": tax_id.country, "value": tax_id.value}
            for tax_id in request.tax_ids
        ],
    }


def _answer(body: Any) -> VerificationAnswer:
    if not isinstance(body, dict) or body.get("outcome") not in _OUTCOMES:
        raise _Misconfigured("an answer without an outcome")
    outcome = _OUTCOMES[body["outcome"]]
    reasons = [str(reason)[:200] for reason in body.get("reasons") or []]
    note = "; ".join(reasons) if outcome is Verification.FAILED and reasons else None
    reference = body.get("verification_id")
    return VerificationAnswer(outcome, note=note, reference=str(reference) if reference else None)


def _why(error: BaseException) -> str:
    if isinstance(error, CircuitOpen):
        return "its circuit is open after repeated failures"
    if isinstance(error, TimeoutError):
        return "it did not answer in time"
    if isinstance(error, httpx.TransportError):
        return "it could not be reached"
    if isinstance(error, VerifierUnavailable | _Misconfigured):
        return f"it answered {error}"
    return "its answer could not be read"


def _parked(error: BaseException) -> VerificationAnswer:
    return VerificationAnswer(
        Verification.PARKED,
        note=f"The verifier could not answer ({_why(error)}); the application waits for a retry"
        " or a reviewer.",
    )
