"""Sagas and their history in the owning service's database, on the caller's unit of work.

Every statement runs in the session's transaction, so a saga's new state, its history and the
commands it sends (the outbox) commit together. A saga is read `FOR UPDATE`: two replies of one
saga handled at once apply one after the other, each seeing the other's result. The deadline
sweep adds `SKIP LOCKED`, so it never waits for a saga a consumer or another sweep holds, and
never handles one twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text

from mandi_db import PreparedQuery, QueryRow, SqlRepository
from mandi_saga.machine import HistoryEntry, Saga, SagaStatus, StepStatus

__all__ = ["SagaRepository", "StaleSaga"]

_INSERT = PreparedQuery(
    text("""
    INSERT INTO sagas (id, tenant_id, type, status, current_step, steps, data, deadline, attempts,
                       version, created_at, updated_at)
    VALUES (:id, :tenant_id, :type, :status, :current_step, :steps, :data, :deadline, :attempts,
            :version, :created_at, :updated_at)
""")
)
_SAGA = text("""
    SELECT id, tenant_id, type, status, current_step, steps, data, deadline, attempts, version,
           created_at, updated_at
    FROM sagas WHERE id = :id
""")
_GET = PreparedQuery(_SAGA)
_FOR_UPDATE = PreparedQuery(text(_SAGA.text + " FOR UPDATE"))
_DUE = PreparedQuery(
    text("""
    SELECT id, tenant_id, type, status, current_step, steps, data, deadline, attempts, version,
           created_at, updated_at
    FROM sagas
    WHERE deadline <= :now
    ORDER BY deadline
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
""")
)
_UPDATE = PreparedQuery(
    text("""
    UPDATE sagas
    SET status = :status, current_step = :current_step, steps = :steps, data = :data,
        deadline = :deadline, attempts = :attempts, version = version + 1,
        updated_at = :updated_at
    WHERE id = :id AND version = :version
    RETURNING version
""")
)
_APPEND = PreparedQuery(
    text("""
    INSERT INTO saga_history (saga_id, tenant_id, at, kind, step, detail)
    SELECT :saga_id, :tenant_id, entry.at, entry.kind, entry.step, entry.detail
    FROM unnest(CAST(:ats AS timestamptz[]), CAST(:kinds AS text[]), CAST(:steps AS text[]),
                CAST(:details AS jsonb[])) AS entry (at, kind, step, detail)
""")
)
_HISTORY = PreparedQuery(
    text("SELECT at, kind, step, detail FROM saga_history WHERE saga_id = :saga_id ORDER BY id")
)


class StaleSaga(RuntimeError):
    """The saga changed since it was read: its save would overwrite another's."""


class SagaRepository(SqlRepository):
    """The sagas of the unit of work's tenant (row-level security shows no other's)."""

    async def add(self, saga: Saga) -> None:
        """Inserts a new saga."""
        await self._fetch(_INSERT, {**_row(saga), "version": saga.version})

    async def get(self, saga_id: UUID, *, for_update: bool = False) -> Saga | None:
        """A saga by id, locked until the transaction ends if `for_update`; None if unseen."""
        rows = await self._fetch(_FOR_UPDATE if for_update else _GET, {"id": saga_id})
        return _saga(rows[0]) if rows else None

    async def due(self, now: datetime, limit: int) -> list[Saga]:
        """Up to `limit` sagas whose deadline has passed, locked, skipping those others hold."""
        return [_saga(row) for row in await self._fetch(_DUE, {"now": now, "limit": limit})]

    async def save(self, saga: Saga) -> Saga:
        """Writes a saga read at `saga.version`; the saga as saved, at the next version."""
        rows = await self._fetch(_UPDATE, {**_row(saga), "version": saga.version})
        if not rows:
            raise StaleSaga(f"saga {saga.id} changed since version {saga.version}")
        return replace(saga, version=rows[0].version)

    async def append(self, saga: Saga, entries: Sequence[HistoryEntry]) -> None:
        """Adds entries to a saga's history, in one statement."""
        await self._fetch(
            _APPEND,
            {
                "saga_id": saga.id,
                "tenant_id": saga.tenant_id,
                "ats": [entry.at for entry in entries],
                "kinds": [entry.kind for entry in entries],
                "steps": [entry.step for entry in entries],
                "details": [json.dumps(dict(entry.detail)) for entry in entries],
            },
        )

    async def history(self, saga_id: UUID) -> list[HistoryEntry]:
        """A saga's history, oldest first."""
        rows = await self._fetch(_HISTORY, {"saga_id": saga_id})
        return [HistoryEntry(row.at, row.kind, row.step, row.detail) for row in rows]


def _row(saga: Saga) -> dict[str, Any]:
    return {
        "id": saga.id,
        "tenant_id": saga.tenant_id,
        "type": saga.type,
        "status": saga.status.value,
        "current_step": saga.step,
        "steps": [status.value for status in saga.steps],
        "data": json.dumps(dict(saga.data)),
        "deadline": saga.deadline,
        "attempts": saga.attempts,
        "created_at": saga.created_at,
        "updated_at": saga.updated_at,
    }


def _saga(row: QueryRow) -> Saga:
    data: Mapping[str, Any] = row.data
    return Saga(
        id=row.id,
        tenant_id=row.tenant_id,
        type=row.type,
        status=SagaStatus(row.status),
        step=row.current_step,
        steps=tuple(StepStatus(status) for status in row.steps),
        data=data,
        deadline=row.deadline,
        attempts=row.attempts,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
