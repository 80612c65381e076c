"""Idempotency-Key: a retried request gets the stored answer, and the work is not done twice.

The key is claimed, the work done and the answer stored in one transaction, so the answer is
recorded exactly when the work commits. A second request with the same key waits on the first
one's uncommitted row (PostgreSQL makes a conflicting INSERT wait), then replays its answer; if
the first rolled back, the second does the work itself. Keys belong to one principal of one
tenant and expire after a retention.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from mandi_db.rls import disable_tenant_isolation, enable_tenant_isolation
from mandi_errors import BadRequest, Conflict

__all__ = [
    "Answer",
    "IdempotencyKey",
    "IdempotencyRecords",
    "IdempotencyReused",
    "IdempotencyStore",
    "IdempotentUnitOfWork",
    "create_idempotency_table",
    "drop_idempotency_table",
    "idempotently",
    "request_fingerprint",
]

_TABLE = "idempotency_keys"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

_CLAIM = text(
    """
    INSERT INTO idempotency_keys (tenant_id, principal_id, key, fingerprint, expires_at)
    VALUES (:tenant_id, :principal_id, :key, :fingerprint, now() + :retention)
    ON CONFLICT (tenant_id, principal_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, response = NULL,
            created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at <= now()
    RETURNING key
    """
)
_STORED = text(
    "SELECT fingerprint, response FROM idempotency_keys "
    "WHERE tenant_id = :tenant_id AND principal_id = :principal_id AND key = :key"
)
_COMPLETE = text(
    "UPDATE idempotency_keys SET response = CAST(:response AS jsonb) "
    "WHERE tenant_id = :tenant_id AND principal_id = :principal_id AND key = :key"
)
_PURGE = text(
    "DELETE FROM idempotency_keys WHERE ctid IN "
    "(SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT :limit)"
)


class IdempotencyReused(Conflict):
    """The key was used before for a different request."""

    type_slug = "idempotency-key-reused"
    title = "Idempotency key reused"


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's Idempotency-Key, whose it is, and what request it was sent with."""

    principal_id: str
    key: str
    fingerprint: str

    @classmethod
    def from_header(cls, principal_id: str, value: str, fingerprint: str) -> IdempotencyKey:
        """The key of an `Idempotency-Key` header; BadRequest unless 1-200 visible ASCII."""
        if not _KEY.match(value):
            raise BadRequest("An Idempotency-Key is 1 to 200 visible ASCII characters.")
        return cls(principal_id, value, fingerprint)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request: method, path and body, hashed."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    """Claims keys and stores answers in the session's transaction."""

    def __init__(
        self, session: AsyncSession, *, retention: timedelta = timedelta(hours=24)
    ) -> None:
        self._session = session
        self._retention = retention

    async def claim(self, key: IdempotencyKey, tenant_id: UUID) -> dict[str, Any] | None:
        """None: the work is this transaction's to do. Otherwise the answer stored before."""
        connection = await self._session.connection()
        names = _names(key, tenant_id)
        claimed = await connection.execute(
            _CLAIM, {**names, "fingerprint": key.fingerprint, "retention": self._retention}
        )
        if claimed.first() is not None:
            return None
        stored = (await connection.execute(_STORED, names)).one()
        if stored.fingerprint != key.fingerprint:
            raise IdempotencyReused("This Idempotency-Key was used for a different request.")
        if stored.response is None:
            # Claimed and committed without an answer: the work was not one that stores one.
            raise Conflict("A request with this Idempotency-Key was not completed; use a new key.")
        response: dict[str, Any] = stored.response
        return response

    async def complete(
        self, key: IdempotencyKey, tenant_id: UUID, response: dict[str, Any]
    ) -> None:
        """Stores the answer under the key claimed in this transaction."""
        connection = await self._session.connection()
        await connection.execute(_COMPLETE, {**_names(key, tenant_id), "response": _json(response)})

    async def purge_expired(self, limit: int = 1000) -> int:
        """Deletes up to `limit` expired keys (of the transaction's tenant); how many."""
        connection = await self._session.connection()
        return (await connection.execute(_PURGE, {"limit": limit})).rowcount


V = TypeVar("V", bound=BaseModel)


class IdempotencyRecords(Protocol):
    """Answers stored under Idempotency-Keys, in a unit of work's transaction."""

    async def claim(self, key: IdempotencyKey, tenant_id: UUID) -> dict[str, Any] | None: ...
    async def complete(
        self, key: IdempotencyKey, tenant_id: UUID, response: dict[str, Any]
    ) -> None: ...


class IdempotentUnitOfWork(Protocol):
    """A tenant's unit of work that stores idempotent answers with its writes."""

    @property
    def tenant_id(self) -> UUID: ...
    @property
    def idempotency(self) -> IdempotencyRecords: ...
    async def commit(self) -> None: ...


U = TypeVar("U", bound=IdempotentUnitOfWork)


@dataclass(frozen=True)
class Answer(Generic[V]):
    """A use case's answer, and whether it is the stored answer of an earlier request."""

    value: V
    replayed: bool = False


async def idempotently(
    transaction: AbstractAsyncContextManager[U],
    key: IdempotencyKey | None,
    work: Callable[[U], Awaitable[V]],
    *,
    answer_type: type[V],
) -> Answer[V]:
    """Does `work` and commits, storing its answer under `key`; or replays the stored answer.

    The claim, the work and the stored answer commit together (see the module's docstring); a
    key reused for another request is IdempotencyReused (a conflict).
    """
    async with transaction as uow:
        if key is not None:
            stored = await uow.idempotency.claim(key, uow.tenant_id)
            if stored is not None:
                return Answer(answer_type.model_validate(stored), replayed=True)
        value = await work(uow)
        if key is not None:
            await uow.idempotency.complete(key, uow.tenant_id, value.model_dump(mode="json"))
        await uow.commit()
    return Answer(value)


def _names(key: IdempotencyKey, tenant_id: UUID) -> dict[str, object]:
    return {"tenant_id": tenant_id, "principal_id": key.principal_id, "key": key.key}


def _json(response: dict[str, Any]) -> str:
    return json.dumps(response, separators=(",", ":"))


def create_idempotency_table() -> list[str]:
    """Statements creating the table of keys, bound to their tenant by row-level security."""
    return [
        """
        CREATE TABLE idempotency_keys (
            tenant_id uuid NOT NULL,
            principal_id text NOT NULL,
            key text NOT NULL,
            fingerprint text NOT NULL,
            response jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, principal_id, key)
        )
        """,
        "CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at)",
        *enable_tenant_isolation(_TABLE),
    ]


def drop_idempotency_table() -> list[str]:
    """Statements undoing `create_idempotency_table`."""
    return [*disable_tenant_isolation(_TABLE), "DROP TABLE IF EXISTS idempotency_keys"]
