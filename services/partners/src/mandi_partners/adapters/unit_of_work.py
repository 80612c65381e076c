"""The partners service's units of work on PostgreSQL: repositories, idempotency keys, outbox."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any, Self
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from mandi_contracts import EVENTS
from mandi_db import (
    IdempotencyKey,
    IdempotencyStore,
    ReadTransaction,
    SqlTenantDirectory,
    TenantAwareSession,
    TenantlessUnitOfWork,
)
from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic
from mandi_partners.adapters.protection import PiiProtection, answer_field
from mandi_partners.adapters.repositories import SqlPartners, SqlStaff
from mandi_partners.adapters.tables import tenants

__all__ = [
    "SealedIdempotency",
    "SqlPartnerLookups",
    "SqlPartnersDirectory",
    "SqlPartnersUnitOfWork",
]


class SealedIdempotency:
    """Stored answers sealed like any PII: an answer shows tax ids and contacts in full.

    Each answer is bound to its row (tenant, principal, key): moved to another key, it does not
    open. Re-encryption under a new key is `SqlPartners.reseal`'s, which knows this stored form.
    """

    def __init__(self, store: IdempotencyStore, protection: PiiProtection) -> None:
        self._store, self._protection = store, protection

    async def claim(self, key: IdempotencyKey, tenant_id: UUID) -> dict[str, Any] | None:
        """None to go ahead, or the answer stored under the key (IdempotencyReused: not same)."""
        stored = await self._store.claim(key, tenant_id)
        if stored is None:
            return None
        sealed = base64.b64decode(stored["sealed"])
        field = answer_field(tenant_id, key.principal_id, key.key)
        answer: dict[str, Any] = json.loads(self._protection.open(sealed, field))
        return answer

    async def complete(
        self, key: IdempotencyKey, tenant_id: UUID, response: dict[str, Any]
    ) -> None:
        """Stores the answer, sealed, under the claimed key."""
        field = answer_field(tenant_id, key.principal_id, key.key)
        sealed = self._protection.seal(json.dumps(response), field)
        await self._store.complete(key, tenant_id, {"sealed": base64.b64encode(sealed).decode()})

    async def purge_expired(self, limit: int = 1000) -> int:
        """Deletes expired keys and their answers."""
        return await self._store.purge_expired(limit)


class SqlPartnersUnitOfWork(OutboxUnitOfWork):
    """One transaction of the partners service, in one tenant's context."""

    outbox = OutboxAddress(EVENTS, source="mandi/partners", topic=events_topic("partners"))

    partners: SqlPartners
    tenants: SqlTenantDirectory
    staff: SqlStaff
    idempotency: SealedIdempotency

    def __init__(
        self,
        sessions: async_sessionmaker[TenantAwareSession],
        protection: PiiProtection,
        *,
        tenant_id: UUID,
        idempotency_retention: timedelta,
    ) -> None:
        super().__init__(sessions, tenant_id=tenant_id)
        self._protection = protection
        self._retention = idempotency_retention

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.partners = SqlPartners(self.session, self._protection)
        self.tenants = SqlTenantDirectory(self.session, tenants)
        self.staff = SqlStaff(self.session)
        self.idempotency = SealedIdempotency(
            IdempotencyStore(self.session, retention=self._retention), self._protection
        )
        return self


class SqlPartnersDirectory(TenantlessUnitOfWork):
    """One transaction over the directory of tenants; no partner data in reach."""

    tenants: SqlTenantDirectory

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.tenants = SqlTenantDirectory(self.session, tenants)
        return self


class SqlPartnerLookups(ReadTransaction):
    """Reads of one tenant's partners by id: READ ONLY, on the primary, so a client reads its
    own writes; without a session, as most requests are these."""

    partners: SqlPartners

    def __init__(self, engine: AsyncEngine, protection: PiiProtection, *, tenant_id: UUID) -> None:
        super().__init__(engine, tenant_id=tenant_id)
        self._protection = protection

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.partners = SqlPartners(self, self._protection)
        return self
