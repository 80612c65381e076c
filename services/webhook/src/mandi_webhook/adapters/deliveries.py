"""Deliveries and their attempt log on PostgreSQL, in the unit of work's transaction.

The dispatcher's statements (claim, release, record) are plain SQL on the transaction's driver
connection: they run for every delivery, and SQLAlchemy's compilation would cost more than the
work. A claim is one statement: it picks due deliveries with `FOR UPDATE SKIP LOCKED`, so two
dispatchers never take the same one, and leases them by pushing `next_attempt_at` past the
attempt; a dispatcher that dies mid-attempt leaves them due again when the lease ends.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from mandi_db import driver_of
from mandi_runtime.pages import Position
from mandi_webhook.domain.deliveries import (
    MAX_RESPONSE_EXCERPT,
    Attempt,
    AttemptResult,
    Delivery,
    DeliveryStatus,
)

__all__ = ["SqlDeliveries"]

_ADD = """
    INSERT INTO deliveries (tenant_id, id, endpoint_id, partner_id, webhook_id, event_type, body,
        status, attempts, next_attempt_at, last_error, correlation_id, traceparent, created_at,
        updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
    ON CONFLICT (endpoint_id, webhook_id) DO NOTHING
"""
# Due deliveries of enabled endpoints, oldest due first, none of the `excluded` endpoints'; an
# ordered endpoint's only when no delivery before it is pending (sent, waiting or leased).
_CLAIM = """
    UPDATE deliveries AS d SET next_attempt_at = $2
    FROM (
        SELECT due.id FROM deliveries AS due
        JOIN endpoints AS e ON e.id = due.endpoint_id AND e.enabled
        WHERE due.status = 'pending' AND due.next_attempt_at <= $1
          AND NOT (due.endpoint_id = ANY($4::uuid[]))
          AND (NOT e.ordered OR NOT EXISTS (
              SELECT 1 FROM deliveries AS before
              WHERE before.endpoint_id = due.endpoint_id AND before.status = 'pending'
                AND before.sequence < due.sequence))
        ORDER BY due.next_attempt_at
        LIMIT $3
        FOR UPDATE OF due SKIP LOCKED
    ) AS claimed
    WHERE d.id = claimed.id
    RETURNING d.*
"""
_RELEASE = "UPDATE deliveries SET next_attempt_at = $2 WHERE id = ANY($1::uuid[])"
_RECORD = """
    UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5,
        updated_at = $6
    WHERE id = $1
"""
_LOG = """
    INSERT INTO delivery_attempts (tenant_id, delivery_id, attempted_at, status_code, latency_ms,
        error, response_excerpt)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
_GET = "SELECT * FROM deliveries WHERE id = $1"
_GET_FOR_UPDATE = "SELECT * FROM deliveries WHERE id = $1 FOR UPDATE"
_ATTEMPTS = """
    SELECT delivery_id, attempted_at, status_code, latency_ms, error, response_excerpt
    FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id
"""
_PAGE = """
    SELECT * FROM deliveries
    WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2)
      AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
    ORDER BY created_at, id LIMIT $5
"""
_RECOVER = """
    UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $3
    WHERE endpoint_id = $1 AND status = 'dead' AND created_at >= $2
"""
_WAKE = "SELECT pg_notify('webhook_deliveries', '')"
_PURGE = """
    DELETE FROM deliveries WHERE id IN (
        SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 LIMIT $2)
"""


class SqlDeliveries:
    """The tenant's deliveries, in the unit of work's transaction."""

    def __init__(self, session: Any, tenant_id: UUID) -> None:
        self._session, self._tenant_id = session, tenant_id

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        """Stores new deliveries; one made before (the same event to the same endpoint) stays
        as it is, so an event consumed twice is delivered once."""
        if not deliveries:
            return
        driver = await driver_of(self._session)
        await driver.executemany(_ADD, [self._row(each) for each in deliveries])

    async def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, excluded: Collection[UUID]
    ) -> list[Delivery]:
        """Up to `limit` due deliveries, leased until `lease_until`; none of `excluded`'s."""
        driver = await driver_of(self._session)
        rows = await driver.fetch(_CLAIM, now, lease_until, limit, list(excluded))
        return [_delivery(row) for row in rows]

    async def release(self, delivery_ids: Sequence[UUID], at: datetime) -> None:
        """Gives claimed deliveries back, due at `at`, with no attempt counted."""
        if delivery_ids:
            driver = await driver_of(self._session)
            await driver.execute(_RELEASE, list(delivery_ids), at)

    async def record(self, attempts: Sequence[tuple[Delivery, Attempt]]) -> None:
        """Stores each delivery as its attempt left it, and the attempt in its log."""
        if not attempts:
            return
        driver = await driver_of(self._session)
        await driver.executemany(
            _RECORD,
            [
                (d.id, d.status.value, d.attempts, d.next_attempt_at, d.last_error, d.updated_at)
                for d, _attempt in attempts
            ],
        )
        await driver.executemany(_LOG, [self._attempt_row(attempt) for _d, attempt in attempts])

    async def get(self, delivery_id: UUID, *, for_update: bool = False) -> Delivery | None:
        """One delivery, locked until the transaction ends if asked."""
        driver = await driver_of(self._session)
        row = await driver.fetchrow(_GET_FOR_UPDATE if for_update else _GET, delivery_id)
        return None if row is None else _delivery(row)

    async def attempts(self, delivery_id: UUID) -> list[Attempt]:
        """A delivery's attempts, the first first."""
        driver = await driver_of(self._session)
        return [_attempt(row) for row in await driver.fetch(_ATTEMPTS, delivery_id)]

    async def page(
        self,
        endpoint_id: UUID,
        *,
        status: DeliveryStatus | None,
        limit: int,
        after: Position | None,
    ) -> list[Delivery]:
        """An endpoint's deliveries, oldest first, of one status or of all."""
        driver = await driver_of(self._session)
        moment, last_id = after if after is not None else (None, None)
        state = None if status is None else status.value
        rows = await driver.fetch(_PAGE, endpoint_id, state, moment, last_id, limit)
        return [_delivery(row) for row in rows]

    async def replay(self, delivery: Delivery) -> None:
        """Stores a replayed delivery, due again, and wakes the dispatchers."""
        driver = await driver_of(self._session)
        await driver.execute(
            _RECORD,
            delivery.id,
            delivery.status.value,
            delivery.attempts,
            delivery.next_attempt_at,
            delivery.last_error,
            delivery.updated_at,
        )
        await driver.execute(_WAKE)

    async def recover(self, endpoint_id: UUID, since: datetime, now: datetime) -> int:
        """Makes the endpoint's dead deliveries since `since` due again now; how many."""
        driver = await driver_of(self._session)
        status = await driver.execute(_RECOVER, endpoint_id, since, now)
        await driver.execute(_WAKE)
        return int(status.rsplit(" ", 1)[-1])

    async def purge_ended(self, before: datetime, limit: int) -> int:
        """Deletes up to `limit` deliveries that ended before `before`; how many."""
        driver = await driver_of(self._session)
        status = await driver.execute(_PURGE, before, limit)
        return int(status.rsplit(" ", 1)[-1])

    def _row(self, delivery: Delivery) -> tuple[object, ...]:
        return (
            self._tenant_id,
            delivery.id,
            delivery.endpoint_id,
            delivery.partner_id,
            delivery.webhook_id,
            delivery.event_type,
            delivery.body,
            delivery.status.value,
            delivery.attempts,
            delivery.next_attempt_at,
            delivery.last_error,
            delivery.correlation_id,
            delivery.traceparent,
            delivery.created_at,
            delivery.updated_at,
        )

    def _attempt_row(self, attempt: Attempt) -> tuple[object, ...]:
        result = attempt.result
        return (
            self._tenant_id,
            attempt.delivery_id,
            attempt.attempted_at,
            result.status_code,
            result.latency_ms,
            result.error,
            result.response_excerpt[:MAX_RESPONSE_EXCERPT],
        )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        partner_id=row["partner_id"],
        webhook_id=row["webhook_id"],
        event_type=row["event_type"],
        body=bytes(row["body"]),
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_error=row["last_error"],
        correlation_id=row["correlation_id"],
        traceparent=row["traceparent"],
    )


def _attempt(row: Any) -> Attempt:
    result = AttemptResult(
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        response_excerpt=row["response_excerpt"],
    )
    return Attempt(row["delivery_id"], row["attempted_at"], result)
