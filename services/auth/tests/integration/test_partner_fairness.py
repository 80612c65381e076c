"""On real Redis and PostgreSQL: one partner's many keys cannot starve its tenant's others.

Every key of a partner draws on the partner's shared bucket as well as its own, so however many
standard keys a partner holds, what it can take from the tenant is the partner's limit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from mandi_auth.config import LimitSettings, Settings
from mandi_auth.entrypoints.commands import AuthRunning
from mandi_auth.entrypoints.service import DEFINITION
from mandi_auth.service_layer import accounts, api_keys
from mandi_auth.service_layer.authorize import AuthorizeRequest, authorize
from mandi_errors import Conflict
from mandi_runtime import running
from mandi_security.principal import Principal, PrincipalType

pytestmark = pytest.mark.integration

PER_PARTNER = LimitSettings(per_second=50, burst=150)
PER_TENANT = LimitSettings(per_second=100, burst=300)


@pytest.fixture
async def tight_service(settings: Settings) -> AsyncIterator[AuthRunning]:
    """The service with a tenant limit a few hundred requests can reach (plans as shipped)."""
    tight = settings.model_copy(update={"per_partner": PER_PARTNER, "per_tenant": PER_TENANT})
    async with running(DEFINITION, tight, background=False) as started:
        yield started


async def _operator(service: AuthRunning) -> Principal:
    slug = f"t-{uuid.uuid4().hex[:10]}"
    created = await accounts.create_tenant(
        service.deps, accounts.CreateTenant(slug, slug, f"admin@{slug}.example", uuid.uuid4().hex)
    )
    return Principal(
        created.tenant_id,
        str(created.admin_user_id),
        PrincipalType.INTERNAL,
        scopes=frozenset({"*"}),
        roles=frozenset({"admin"}),
    )


async def _keys(service: AuthRunning, admin: Principal, partner: uuid.UUID, count: int) -> list:
    command = api_keys.IssueApiKey("erp", frozenset({"auth:read"}), partner)  # standard plan
    return [
        (await api_keys.issue_api_key(service.deps, admin, command)).value for _ in range(count)
    ]


async def _allowed(service: AuthRunning, key: str) -> bool:
    request = AuthorizeRequest("GET", "auth", "/api/v1/auth/me", api_key=key)
    return (await authorize(service.deps, request)).allowed


async def test_twenty_five_keys_of_one_partner_leave_the_others_room(tight_service) -> None:
    admin = await _operator(tight_service)
    busy, quiet = uuid.uuid4(), uuid.uuid4()
    busy_keys = await _keys(tight_service, admin, busy, 25)
    [quiet_key] = await _keys(tight_service, admin, quiet, 1)

    started = time.monotonic()
    # Every key sends its whole burst (the standard plan's 40) at once: 1,000 requests.
    verdicts = await asyncio.gather(*(_allowed(tight_service, k) for k in busy_keys * 40))
    elapsed = time.monotonic() - started
    quiet_verdicts = [await _allowed(tight_service, quiet_key) for _ in range(20)]

    assert all(quiet_verdicts), f"the quiet partner got {quiet_verdicts.count(False)} refusals"
    refill = PER_PARTNER.per_second * elapsed
    assert sum(verdicts) <= PER_PARTNER.burst + refill + 1


async def test_a_partner_cannot_hold_more_keys_than_the_cap(tight_service) -> None:
    admin = await _operator(tight_service)
    partner = uuid.uuid4()
    cap = tight_service.settings.max_keys_per_partner
    command = api_keys.IssueApiKey("erp", frozenset({"auth:read"}), partner)
    # Issued concurrently: the partner's lock makes each count see the ones before it.
    outcomes = await asyncio.gather(
        *(api_keys.issue_api_key(tight_service.deps, admin, command) for _ in range(cap + 5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(outcome, BaseException) for outcome in outcomes) == cap
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException))
