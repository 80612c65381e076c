"""Fakes for the auth service layer's unit tests, on mandi_testing's FakeUnitOfWork.

A unit of work opened for a tenant sees that tenant's users, keys and refresh tokens only, as
row-level security shows them; changes reach the store on commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from mandi_auth.domain.limits import Limit, Plan
from mandi_auth.domain.login_backoff import LoginBackoff, LoginScope
from mandi_auth.service_layer.dependencies import AuthDependencies, LimitPolicy
from mandi_auth.service_layer.ports import Bucket, IssuedToken, ThrottleKey, Verdict
from mandi_security.principal import Principal
from mandi_security.tokens import TokenRejected
from mandi_testing.fakes import (
    FakeClock,
    FakeStore,
    FakeTransaction,
    FakeUnitOfWork,
    TenantRows,
)


class FakePasswords:
    """Counts the checks a guesser gets; yields like the real hash, which runs off the loop."""

    def __init__(self) -> None:
        self.burned = 0
        self.verified = 0

    async def hash(self, password: str) -> str:
        return f"hashed:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        await asyncio.sleep(0)
        return password_hash == f"hashed:{password}"

    async def burn(self) -> None:
        self.burned += 1
        await asyncio.sleep(0)


class FakeKeyHasher:
    def digest(self, secret: str) -> str:
        return f"digest:{secret}"

    def matches(self, stored: str, secret: str) -> bool:
        return stored == f"digest:{secret}"


class FakeSigner:
    """Tokens are opaque strings mapped to their claims."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self.claims: dict[str, dict[str, Any]] = {}

    def issue(self, principal: Principal, session_id: UUID, now: datetime) -> IssuedToken:
        token = f"token-{len(self.claims)}"
        self.claims[token] = {
            "sub": principal.principal_id,
            "tid": str(principal.tenant_id),
            "typ": principal.type.value,
            "scope": " ".join(sorted(principal.scopes)),
            "roles": sorted(principal.roles),
            "sid": str(session_id),
            "pid": str(principal.partner_id) if principal.partner_id else None,
        }
        self.claims[token] = {k: v for k, v in self.claims[token].items() if v is not None}
        return IssuedToken(token, now + self.lifetime)

    def verify(self, token: str) -> dict[str, Any]:
        if token not in self.claims:
            raise TokenRejected("invalid_token", "The access token is not valid.")
        return self.claims[token]


class FakeGatekeeper:
    """Admits while each bucket has burst left (no refill: tests control every request)."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}
        self.revoked_sessions: set[UUID] = set()
        self.touched: dict[UUID, datetime] = {}

    async def admit(
        self, revoked_session: UUID | None, buckets: Sequence[Bucket], *, touch: UUID | None = None
    ) -> Verdict:
        if revoked_session in self.revoked_sessions:
            return Verdict(allowed=False, reason="revoked")
        for bucket in buckets:
            if self.used.get(bucket.name, 0) >= bucket.limit.burst:
                return Verdict(False, "rate_limited", 1.0, bucket.limit.burst, 0, 1.0)
        for bucket in buckets:
            self.used[bucket.name] = self.used.get(bucket.name, 0) + 1
        if touch is not None:
            self.touched[touch] = datetime.now(UTC)
        return Verdict(allowed=True, limit=buckets[0].limit.burst)

    async def last_used(self, key_ids: Sequence[UUID]) -> dict[UUID, datetime]:
        return {key: self.touched[key] for key in key_ids if key in self.touched}

    async def revoke_session(self, session_id: UUID, for_seconds: float) -> None:  # noqa: ARG002 - the port's signature
        self.revoked_sessions.add(session_id)

    async def session_revoked(self, session_id: UUID) -> bool:
        return session_id in self.revoked_sessions


class FakeThrottle:
    """Reserves each allowed attempt as a failure on every key, as the Redis script does.

    A key whose failures reached its scope's free attempts makes the next attempt wait a second:
    3 for an account from one address, 6 for an account, 10 for an address.
    """

    def __init__(self) -> None:
        self.failures: dict[ThrottleKey, int] = {}
        self.free_attempts = {
            LoginScope.ACCOUNT_FROM_ADDRESS: 3,
            LoginScope.ACCOUNT: 6,
            LoginScope.ADDRESS: 10,
        }

    async def reserve(self, keys: Sequence[ThrottleKey]) -> float:
        if any(self.failures.get(key, 0) >= self.free_attempts[key.scope] for key in keys):
            return 1.0
        for key in keys:
            self.failures[key] = self.failures.get(key, 0) + 1
        return 0.0

    async def succeeded(
        self, *, clear: Sequence[ThrottleKey], give_back: Sequence[ThrottleKey]
    ) -> None:
        for key in clear:
            self.failures.pop(key, None)
        for key in give_back:
            self.failures[key] = max(0, self.failures.get(key, 0) - 1)


class _Tenants:
    def __init__(self, rows: dict[UUID, Any]) -> None:
        self.rows = rows

    async def by_slug(self, slug: str) -> Any:
        return next((t for t in self.rows.values() if t.slug == slug), None)

    async def get(self, tenant_id: UUID) -> Any:
        return self.rows.get(tenant_id)

    async def add(self, tenant: Any) -> None:
        self.rows[tenant.id] = tenant

    async def save(self, tenant: Any) -> None:
        self.rows[tenant.id] = tenant


class _TenantTable:
    """Rows of one tenant, as RLS shows them."""

    def __init__(self, rows: TenantRows) -> None:
        self.rows = rows

    async def get(self, row_id: UUID) -> Any:
        return self.rows.get(row_id)

    async def add(self, row: Any) -> None:
        self.rows.put(row)

    async def save(self, row: Any) -> None:
        self.rows.put(row)


class _Users(_TenantTable):
    async def by_email(self, email: str) -> Any:
        return next(iter(self.rows.where(lambda user: user.email == email)), None)


class _ApiKeys(_TenantTable):
    async def of_partner(self, partner_id: UUID | None) -> list[Any]:
        return self.rows.where(lambda key: partner_id is None or key.partner_id == partner_id)

    async def lock_partner(self, partner_id: UUID) -> None:
        pass  # one test runs one use case at a time

    async def count_valid(self, partner_id: UUID, moment: datetime) -> int:
        return sum(1 for k in await self.of_partner(partner_id) if k.is_valid_at(moment))


class _RefreshTokens:
    """Tokens with their hashes, stored as (token, hash) under the token's id."""

    def __init__(self, rows: dict[UUID, tuple[Any, str]], tenant_id: UUID) -> None:
        self.rows, self.tenant_id = rows, tenant_id

    async def get(self, token_id: UUID, *, for_update: bool = False) -> tuple[Any, str] | None:  # noqa: ARG002 - the port's signature
        found = self.rows.get(token_id)
        return found if found and found[0].tenant_id == self.tenant_id else None

    async def add(self, token: Any, token_hash: str) -> None:
        self.rows[token.id] = (token, token_hash)

    async def save(self, token: Any) -> None:
        self.rows[token.id] = (token, self.rows[token.id][1])

    async def revoke_family(self, family_id: UUID, moment: datetime) -> None:
        for token, _ in self.rows.values():
            if token.family_id == family_id and token.revoked_at is None:
                token.revoked_at = moment

    async def revoke_all(self, moment: datetime) -> list[UUID]:
        ended = set()
        for token, _ in self.rows.values():
            if token.tenant_id == self.tenant_id and token.revoked_at is None:
                token.revoked_at = moment
                ended.add(token.family_id)
        return sorted(ended)


class _Credentials:
    def __init__(self, rows: dict[UUID, UUID]) -> None:
        self.rows = rows

    async def tenant_of(self, credential_id: UUID) -> UUID | None:
        return self.rows.get(credential_id)

    async def add(self, credential_id: UUID, tenant_id: UUID) -> None:
        self.rows[credential_id] = tenant_id


class FakeDirectory(FakeTransaction):
    """The tenant-less tables only."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__(store)
        self.tenants = _Tenants(self.table("tenants"))
        self.credentials = _Credentials(self.table("credentials"))


class FakeAuthUnitOfWork(FakeUnitOfWork):
    """One tenant's rows, as RLS shows them, and the tenant-less tables."""

    def __init__(self, store: FakeStore, tenant_id: UUID) -> None:
        super().__init__(store, tenant_id)
        self.tenants = _Tenants(self.table("tenants"))
        self.credentials = _Credentials(self.table("credentials"))
        self.users = _Users(self.rows("users"))
        self.api_keys = _ApiKeys(self.rows("api_keys"))
        self.refresh_tokens = _RefreshTokens(self.table("refresh_tokens"), tenant_id)


class FakeTenantStatus:
    """Tenants' status read from the committed store (no cache: tests see changes at once)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def is_active(self, tenant_id: UUID) -> bool:
        tenant = self.store.table("tenants").get(tenant_id)
        return tenant is not None and tenant.is_active

    def forget(self, tenant_id: UUID) -> None:
        pass


class FakeKeyDirectory:
    """Keys by id across tenants, read from the committed store."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def find(self, key_id: UUID) -> Any:
        return self.store.table("api_keys").get(key_id)

    def forget(self, key_id: UUID) -> None:
        pass


@dataclass
class Fakes:
    """The fakes behind one test's AuthDependencies, for the test to look into."""

    store: FakeStore
    clock: FakeClock
    passwords: FakePasswords
    signer: FakeSigner
    gatekeeper: FakeGatekeeper
    throttle: FakeThrottle


@pytest.fixture
def fakes() -> Fakes:
    """Fresh fakes."""
    return Fakes(
        FakeStore(),
        FakeClock(),
        FakePasswords(),
        FakeSigner(timedelta(minutes=10)),
        FakeGatekeeper(),
        FakeThrottle(),
    )


@pytest.fixture
def deps(fakes: Fakes) -> AuthDependencies:
    """The use cases' dependencies, on fakes."""

    @asynccontextmanager
    async def uow(tenant_id: UUID) -> Any:
        yield FakeAuthUnitOfWork(fakes.store, tenant_id)

    @asynccontextmanager
    async def directory() -> Any:
        yield FakeDirectory(fakes.store)

    limits = LimitPolicy(
        plans={
            "standard": Plan("standard", Limit(per_second=10, burst=3)),
            "premium": Plan("premium", Limit(per_second=100, burst=100)),
        },
        per_user=Limit(per_second=10, burst=5),
        per_partner=Limit(per_second=50, burst=50),
        per_tenant=Limit(per_second=100, burst=100),
        max_keys_per_partner=4,
    )
    return AuthDependencies(
        uow=uow,
        directory=directory,
        clock=fakes.clock,
        passwords=fakes.passwords,
        key_hasher=FakeKeyHasher(),
        signer=fakes.signer,
        gatekeeper=fakes.gatekeeper,
        throttle=fakes.throttle,
        api_keys=FakeKeyDirectory(fakes.store),
        tenant_status=FakeTenantStatus(fakes.store),
        limits=limits,
        backoff=LoginBackoff(),
        key_rotation_overlap=timedelta(hours=24),
    )
