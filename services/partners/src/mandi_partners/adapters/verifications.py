"""Verifications started in this process: each a task, so a submission does not wait for one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

__all__ = ["InProcessVerifications"]

_log = logging.getLogger(__name__)
_DRAIN_SECONDS = 10.0


class InProcessVerifications:
    """Runs each scheduled verification as a task of this process; the sweep covers a crash.

    `verify` is set once the use cases' dependencies exist (they include this scheduler).
    """

    def __init__(self) -> None:
        self.verify: Callable[[UUID, UUID], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, tenant_id: UUID, partner_id: UUID) -> None:
        """Verifies the partner soon, in a task of its own."""
        if self.verify is None:
            return
        task = asyncio.create_task(self._verified(self.verify, tenant_id, partner_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _verified(
        verify: Callable[[UUID, UUID], Awaitable[None]], tenant_id: UUID, partner_id: UUID
    ) -> None:
        try:
            await verify(tenant_id, partner_id)
        except Exception:  # noqa: BLE001 - the sweep retries it; one failure must not end others
            _log.exception("verifying partner %s failed; the sweep will retry", partner_id)

    async def drain(self) -> None:
        """Waits for the verifications under way (at shutdown)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=_DRAIN_SECONDS)
