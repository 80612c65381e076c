"""Signing keys: published before they sign, published after they stop, until their tokens expire.

A new key is published at once but signs only after `propagation`, so every replica has loaded it
by then; a key replaced by a newer one stays published one token lifetime, so the tokens it signed
remain verifiable until they expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["SigningKey", "next_key_due", "published_keys", "signing_key"]


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair's public half and its schedule; the private half is stored sealed."""

    kid: str
    public_key: bytes
    created_at: datetime
    activates_at: datetime


def signing_key(keys: list[SigningKey], now: datetime) -> SigningKey | None:
    """The key that signs now: the newest one already active."""
    active = [key for key in keys if key.activates_at <= now]
    return max(active, key=lambda key: key.activates_at, default=None)


def _superseded_at(key: SigningKey, keys: list[SigningKey], now: datetime) -> datetime | None:
    later = [k.activates_at for k in keys if key.activates_at < k.activates_at <= now]
    return min(later, default=None)


def published_keys(
    keys: list[SigningKey], now: datetime, token_lifetime: timedelta
) -> list[SigningKey]:
    """Keys a verifier may meet: pending, signing, or replaced less than a token lifetime ago."""
    published = []
    for key in keys:
        superseded = _superseded_at(key, keys, now)
        if superseded is None or now < superseded + token_lifetime:
            published.append(key)
    return published


def next_key_due(keys: list[SigningKey], now: datetime, rotate_every: timedelta) -> bool:
    """Whether a new key should be made: none exists, or the newest is older than the period."""
    newest = max(keys, key=lambda key: key.created_at, default=None)
    return newest is None or now >= newest.created_at + rotate_every
