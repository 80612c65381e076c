"""Periodic jobs: run every period, by one leader per cluster, each round its own operation.

Every replica runs the loop; a round works only where the leader lock is held, so two replicas
never re-encrypt the same rows or ask a verifier about the same application at once. A round
that fails is logged and tried again next period; a round starts its own trace and correlation
id, so the events it causes can be followed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from mandi_observability import get_logger, started_operation
from mandi_runtime.leadership import LeaderLock

__all__ = ["run_periodically"]

_log = get_logger("mandi.jobs")


async def run_periodically(
    name: str, every_seconds: float, job: Callable[[], Awaitable[int]], leader: LeaderLock
) -> None:
    """Runs `job` every `every_seconds` while this process leads; `job` says how much it did."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            if not await leader.holds():
                continue
            with started_operation(name):
                done = await job()
            if done:
                _log.info("periodic job done", job=name, count=done)
        except Exception:  # noqa: BLE001 - a failed round is logged and tried again next period
            _log.exception("periodic job failed", job=name)
