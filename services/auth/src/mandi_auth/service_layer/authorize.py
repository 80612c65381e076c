"""The gateway's question for every request: who is this, may they do it, and is there room?

The answer is cheap by design: the token is checked with keys in memory, API keys come from a
briefly cached directory, and revocation and every rate limit are decided in one Redis call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from mandi_auth.domain.access import required_scope
from mandi_auth.domain.api_keys import parse_key
from mandi_auth.service_layer.dependencies import AuthDependencies
from mandi_auth.service_layer.ports import Bucket, Verdict
from mandi_security.principal import Principal
from mandi_security.resolver import bearer_token
from mandi_security.tokens import TokenRejected, principal_from_claims

__all__ = ["AuthorizeRequest", "Decision", "authorize", "verify_direct_call"]

_API_KEY_PREFIX = "mandi_"
_ALLOWED = 200


@dataclass(frozen=True)
class AuthorizeRequest:
    """What the gateway forwards about the original request.

    `service` is the one the gateway's route targets (its configuration says so, not the
    client); `path` is the normalised path nginx routed on.
    """

    method: str
    service: str
    path: str
    authorization: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class Decision:
    """Allowed with a principal, or refused with a status and a reason code nginx can report."""

    status: int
    reason: str | None = None
    principal: Principal | None = None
    verdict: Verdict | None = None

    @property
    def allowed(self) -> bool:
        """Whether the gateway should pass the request on."""
        return self.status == _ALLOWED


@dataclass(frozen=True)
class _Caller:
    principal: Principal
    session_id: UUID | None
    buckets: list[Bucket]
    key_id: UUID | None = None


def _refused(status: int, reason: str) -> Decision:
    return Decision(status=status, reason=reason)


async def authorize(deps: AuthDependencies, request: AuthorizeRequest) -> Decision:
    """The decision for one request through the gateway."""
    credential = request.api_key or bearer_token(request.authorization)
    if not credential:
        return _refused(401, "missing_credential")
    caller_or_refusal = await _identify(deps, credential)
    if isinstance(caller_or_refusal, Decision):
        return caller_or_refusal
    caller = caller_or_refusal
    refusal = await _refusal(deps, caller.principal, request)
    if refusal is not None:
        return refusal
    verdict = await deps.gatekeeper.admit(caller.session_id, caller.buckets, touch=caller.key_id)
    if verdict.allowed:
        return Decision(status=200, principal=caller.principal, verdict=verdict)
    status = 401 if verdict.reason == "revoked" else 429
    return Decision(status=status, reason=verdict.reason, verdict=verdict)


async def _refusal(
    deps: AuthDependencies, principal: Principal, request: AuthorizeRequest
) -> Decision | None:
    """Why a known caller may not make this request, if it may not."""
    if not await deps.tenant_status.is_active(principal.tenant_id):
        return _refused(401, "tenant_suspended")
    scope = required_scope(request.method, request.service, request.path)
    if scope is None:
        return _refused(403, "unroutable")
    if not principal.has_scope(scope):
        return _refused(403, "insufficient_scope")
    return None


async def _identify(deps: AuthDependencies, credential: str) -> _Caller | Decision:
    if credential.startswith(_API_KEY_PREFIX):
        return await _by_api_key(deps, credential)
    try:
        claims = deps.signer.verify(credential)
        principal = principal_from_claims(claims)
    except TokenRejected as rejected:
        return _refused(401, rejected.reason)
    user = Bucket(f"user:{principal.tenant_id}:{principal.principal_id}", deps.limits.per_user)
    return _Caller(principal, UUID(claims["sid"]), _buckets(deps, principal, user))


async def _by_api_key(deps: AuthDependencies, value: str) -> _Caller | Decision:
    material = parse_key(value)
    key = await deps.api_keys.find(material.key_id) if material else None
    if (
        material is None
        or key is None
        or not deps.key_hasher.matches(key.secret_hash, material.secret)
    ):
        return _refused(401, "invalid_api_key")
    if key.revoked_at is not None:
        return _refused(401, "revoked_api_key")
    if not key.is_valid_at(deps.clock.now()):
        return _refused(401, "expired_api_key")
    principal = key.principal()
    own = Bucket(f"key:{key.id}", deps.limits.for_key(key))
    return _Caller(principal, None, _buckets(deps, principal, own), key_id=key.id)


def _buckets(deps: AuthDependencies, principal: Principal, own: Bucket) -> list[Bucket]:
    """The caller's own bucket, its partner's (shared by all its keys and users), its tenant's."""
    buckets = [own]
    if principal.partner_id is not None:
        partner = f"partner:{principal.tenant_id}:{principal.partner_id}"
        buckets.append(Bucket(partner, deps.limits.per_partner))
    buckets.append(Bucket(f"tenant:{principal.tenant_id}", deps.limits.per_tenant))
    return buckets


async def verify_direct_call(deps: AuthDependencies, token: str) -> dict[str, Any]:
    """The claims of an access token sent straight to this service, not through the gateway.

    Checked as the gateway's path checks it: an ended session and a suspended tenant are
    refused here too. Rate limits are the gateway's, and do not apply to a direct call.
    """
    claims = deps.signer.verify(token)
    principal = principal_from_claims(claims)
    if await deps.gatekeeper.session_revoked(UUID(claims["sid"])):
        raise TokenRejected("revoked", "The session has ended; sign in again.")
    if not await deps.tenant_status.is_active(principal.tenant_id):
        raise TokenRejected("tenant_suspended", "The tenant is suspended.")
    return claims
