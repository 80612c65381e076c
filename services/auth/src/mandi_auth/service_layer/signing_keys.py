"""Keeping the signer's keys current: load them, and make a new one when the period is over."""

from __future__ import annotations

from datetime import timedelta

from mandi_auth.domain.signing_keys import next_key_due
from mandi_auth.service_layer.dependencies import AuthDependencies

__all__ = ["refresh_signing_keys"]


async def refresh_signing_keys(
    deps: AuthDependencies, *, rotate_every: timedelta, propagation: timedelta
) -> None:
    """Makes a key if one is due (the first activates at once) and loads all into the signer."""
    now = deps.clock.now()
    async with deps.directory() as uow:
        await uow.signing_keys.lock()  # one replica makes the new key, not each of them
        stored = await uow.signing_keys.all()
        keys = [key for key, _ in stored]
        if next_key_due(keys, now, rotate_every):
            activates_at = now + propagation if keys else now
            key, sealed = deps.signer.generate(now, activates_at)
            await uow.signing_keys.add(key, sealed)
            await uow.commit()
            stored.append((key, sealed))
    deps.signer.install(stored)
