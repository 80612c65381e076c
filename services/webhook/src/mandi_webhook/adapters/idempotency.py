"""Stored idempotent answers, sealed: the answers of registrations and rotations show a secret.

Each answer is bound to its row (tenant, principal, key): moved to another key, it does not
open. It lives as long as the key's retention; the purge job deletes it after.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from mandi_db import IdempotencyKey, IdempotencyStore
from mandi_security.fields import FieldCipher, SealedField

__all__ = ["ANSWER_COLUMN", "SealedIdempotency"]

ANSWER_COLUMN = "idempotency_keys.response"


class SealedIdempotency:
    """Claims keys and stores their answers as the idempotency store does, the answers sealed."""

    def __init__(self, store: IdempotencyStore, cipher: FieldCipher) -> None:
        self._store, self._cipher = store, cipher

    async def claim(self, key: IdempotencyKey, tenant_id: UUID) -> dict[str, Any] | None:
        """None to go ahead, or the answer stored under the key (IdempotencyReused: not same)."""
        stored = await self._store.claim(key, tenant_id)
        if stored is None:
            return None
        sealed = base64.b64decode(stored["sealed"])
        answer: dict[str, Any] = json.loads(
            self._cipher.decrypt(sealed, context=_field(tenant_id, key))
        )
        return answer

    async def complete(
        self, key: IdempotencyKey, tenant_id: UUID, response: dict[str, Any]
    ) -> None:
        """Stores the answer, sealed, under the claimed key."""
        sealed = self._cipher.encrypt(json.dumps(response), context=_field(tenant_id, key))
        await self._store.complete(key, tenant_id, {"sealed": base64.b64encode(sealed).decode()})

    async def purge_expired(self, limit: int = 1000) -> int:
        """Deletes expired keys and their answers; how many."""
        return await self._store.purge_expired(limit)


def _field(tenant_id: UUID, key: IdempotencyKey) -> SealedField:
    return SealedField.of(ANSWER_COLUMN, tenant_id, key.principal_id, key.key)
