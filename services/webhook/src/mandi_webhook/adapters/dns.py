"""Resolving an endpoint's host for the SSRF guard, within a bound: a resolver that hangs must
not hold a request (and its client) for as long as the system's resolver keeps trying."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from mandi_webhooks import Resolver

__all__ = ["bounded"]


def bounded(resolve: Resolver, timeout_seconds: float) -> Resolver:
    """`resolve`, given up after `timeout_seconds`: a host slower than that does not resolve
    (TimeoutError is an OSError, which the guard reads as no answer)."""

    async def resolve_within(host: str) -> Sequence[str]:
        async with asyncio.timeout(timeout_seconds):
            return await resolve(host)

    return resolve_within
