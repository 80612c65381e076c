"""PostgreSQL repositories, in the unit of work's transaction (row-level security confines each
to its tenant): endpoints in, rows with sealed secrets out, and back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import any_, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from mandi_db import SealedColumn, SqlRepository, StatementSource
from mandi_runtime.pages import Position
from mandi_security.fields import FieldCipher
from mandi_webhook.adapters.tables import endpoint_secrets, endpoints
from mandi_webhook.domain.endpoints import Endpoint, SigningSecret
from mandi_webhooks import WebhookSecret

__all__ = ["SECRET_COLUMN", "SqlEndpoints"]

# Each secret is bound to this column, its tenant and its row: moved elsewhere, it does not open.
SECRET_COLUMN = SealedColumn(endpoint_secrets.c.secret_sealed, "endpoint_secrets.secret")
_CHANGING = (
    "url",
    "event_types",
    "enabled",
    "disabled_reason",
    "description",
    "rate_limit",
    "ordered",
)
_NEW_SECRET = pg_insert(endpoint_secrets)
_PUT_SECRET = _NEW_SECRET.on_conflict_do_update(
    index_elements=[endpoint_secrets.c.id],
    set_={"expires_at": _NEW_SECRET.excluded.expires_at},
)
# Run for every event fanned out: built once, its parameters bound on each call.
_RECEIVING = select(endpoints.c.id).where(
    endpoints.c.partner_id == bindparam("partner_id"),
    endpoints.c.enabled,
    or_(
        func.cardinality(endpoints.c.event_types) == 0,
        bindparam("type", type_=sa.Text) == any_(endpoints.c.event_types),
    ),
)


class SqlEndpoints(SqlRepository):
    """The tenant's endpoints, each with its secrets, sealed in the table and open in memory."""

    def __init__(self, source: StatementSource, cipher: FieldCipher, tenant_id: UUID) -> None:
        super().__init__(source)
        self._cipher, self._tenant_id = cipher, tenant_id

    async def add(self, endpoint: Endpoint) -> None:
        """Stores a new endpoint and its secrets."""
        await self._execute(insert(endpoints).values(self._row(endpoint)))
        await self._put_secrets(endpoint)

    async def get(self, endpoint_id: UUID, *, for_update: bool = False) -> Endpoint | None:
        """The endpoint, locked until the transaction ends if asked."""
        query = select(endpoints).where(endpoints.c.id == endpoint_id)
        row = (await self._execute(query.with_for_update() if for_update else query)).first()
        if row is None:
            return None
        secrets = await self._secrets_of([row.id])
        return _endpoint(row, secrets[row.id])

    async def save(self, endpoint: Endpoint) -> None:
        """Stores the endpoint's new version; secrets that no longer sign are deleted."""
        row = self._row(endpoint)
        changed = {name: row[name] for name in (*_CHANGING, "updated_at", "version")}
        await self._execute(update(endpoints).where(endpoints.c.id == endpoint.id).values(changed))
        kept = [each.id for each in endpoint.secrets]
        await self._execute(
            delete(endpoint_secrets).where(
                endpoint_secrets.c.endpoint_id == endpoint.id, endpoint_secrets.c.id.not_in(kept)
            )
        )
        await self._put_secrets(endpoint)

    async def receiving(self, partner_id: UUID, event_type: str) -> list[UUID]:
        """The ids of the partner's enabled endpoints whose filters let `event_type` through
        (their secrets stay sealed: fan-out needs none)."""
        found = await self._execute(_RECEIVING, {"partner_id": partner_id, "type": event_type})
        return list(found.scalars())

    async def get_many(self, endpoint_ids: Collection[UUID]) -> list[Endpoint]:
        """The endpoints of these ids that exist."""
        if not endpoint_ids:
            return []
        query = select(endpoints).where(endpoints.c.id.in_(list(endpoint_ids)))
        return await self._with_secrets(list(await self._execute(query)))

    async def _with_secrets(self, rows: list[Any]) -> list[Endpoint]:
        secrets = await self._secrets_of([row.id for row in rows])
        return [_endpoint(row, secrets[row.id]) for row in rows]

    async def page(
        self, *, partner_id: UUID | None, limit: int, after: Position | None
    ) -> list[Endpoint]:
        """Endpoints oldest first, of one partner or (None) of every partner."""
        query = select(endpoints).order_by(endpoints.c.created_at, endpoints.c.id).limit(limit)
        if partner_id is not None:
            query = query.where(endpoints.c.partner_id == partner_id)
        if after is not None:
            query = query.where(tuple_(endpoints.c.created_at, endpoints.c.id) > tuple_(*after))
        rows = list(await self._execute(query))
        secrets = await self._secrets_of([row.id for row in rows])
        return [_endpoint(row, secrets[row.id]) for row in rows]

    async def reseal(self, limit: int) -> int:
        """Re-encrypts up to `limit` secrets sealed with an older key; how many were."""
        return await self._reseal_stale(self._cipher, endpoint_secrets, [SECRET_COLUMN], limit)

    async def _put_secrets(self, endpoint: Endpoint) -> None:
        # Oldest first: a rotation ends the current secret before the new one becomes current
        # (one current secret per endpoint, as the table's unique index holds).
        for secret in sorted(endpoint.secrets, key=lambda each: each.created_at):
            await self._execute(_PUT_SECRET.values(self._secret_row(endpoint.id, secret)))

    async def _secrets_of(self, endpoint_ids: Sequence[UUID]) -> dict[UUID, list[SigningSecret]]:
        found: dict[UUID, list[SigningSecret]] = defaultdict(list)
        if not endpoint_ids:
            return found
        query = (
            select(endpoint_secrets)
            .where(endpoint_secrets.c.endpoint_id.in_(endpoint_ids))
            .order_by(endpoint_secrets.c.created_at, endpoint_secrets.c.id)
        )
        for row in await self._execute(query):
            found[row.endpoint_id].append(self._opened(row))
        return found

    def _opened(self, row: Any) -> SigningSecret:
        context = SECRET_COLUMN.of(row.tenant_id, row.id)
        secret = WebhookSecret.parse(self._cipher.decrypt(row.secret_sealed, context=context))
        return SigningSecret(row.id, secret, row.created_at, row.expires_at)

    def _secret_row(self, endpoint_id: UUID, secret: SigningSecret) -> dict[str, object]:
        context = SECRET_COLUMN.of(self._tenant_id, secret.id)
        return {
            "tenant_id": self._tenant_id,
            "id": secret.id,
            "endpoint_id": endpoint_id,
            "secret_sealed": self._cipher.encrypt(secret.secret.reveal(), context=context),
            "created_at": secret.created_at,
            "expires_at": secret.expires_at,
        }

    def _row(self, endpoint: Endpoint) -> dict[str, object]:
        return {
            "tenant_id": self._tenant_id,
            "id": endpoint.id,
            "partner_id": endpoint.partner_id,
            "url": endpoint.url,
            "event_types": sorted(endpoint.event_types),
            "enabled": endpoint.enabled,
            "disabled_reason": endpoint.disabled_reason,
            "description": endpoint.description,
            "rate_limit": endpoint.rate_limit,
            "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at,
            "version": endpoint.version,
            "ordered": endpoint.ordered,
        }


def _endpoint(row: Any, secrets: Iterable[SigningSecret]) -> Endpoint:
    return Endpoint(
        id=row.id,
        partner_id=row.partner_id,
        url=row.url,
        event_types=frozenset(row.event_types),
        description=row.description,
        rate_limit=row.rate_limit,
        secrets=tuple(secrets),
        created_at=row.created_at,
        updated_at=row.updated_at,
        disabled_reason=row.disabled_reason,
        version=row.version,
        ordered=row.ordered,
    )
