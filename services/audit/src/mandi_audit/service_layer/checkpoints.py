"""Timed checkpoints, the checkpoint file, and the published keys.

The journal signs a head every `checkpoint_every_records` as it appends; this signs, in the
leader, every head with records newer than its last signature once that signature is
`checkpoint_every_seconds` old (or was never made), so a quiet tenant's last records are
signed too. Each round also brings every tenant's newest checkpoint to the checkpoint file.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from uuid import UUID

from mandi_audit.domain.checkpoints import Checkpoint, jwk_of
from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.metrics import CHECKPOINTS_SIGNED

__all__ = ["key_set", "publish_keys", "sign_due"]


async def sign_due(deps: AuditDependencies) -> int:
    """Signs the heads that are due; keeps the newest checkpoints outside; how many it signed."""
    now = deps.clock.now()
    due = [
        chain.tenant_id
        for chain in await deps.log.chains()
        if chain.head_seq > chain.checkpoint_seq
        and (
            chain.checkpoint_at is None
            or (now - chain.checkpoint_at).total_seconds() >= deps.checkpoint_every_seconds
        )
    ]
    signed = await deps.log.sign_heads(due, partial(_sign, deps, now=now), now) if due else []
    CHECKPOINTS_SIGNED.labels("time").inc(len(signed))
    deps.checkpoint_file.keep(await deps.log.latest_checkpoints())
    return len(signed)


def _sign(
    deps: AuditDependencies, tenant_id: UUID, seq: int, chain_hash: bytes, *, now: datetime
) -> Checkpoint:
    return deps.signer.sign(tenant_id, seq, chain_hash, now)


async def publish_keys(deps: AuditDependencies) -> None:
    """Publishes the configured keys' public halves; keys published before stay published."""
    await deps.log.publish_keys(deps.signer.public_keys(), deps.clock.now())


async def key_set(deps: AuditDependencies) -> dict[str, list[dict[str, str]]]:
    """Every key that ever signed, as a JWKS (RFC 8037 OKP keys)."""
    published = await deps.log.published_keys()
    return {"keys": [jwk_of(key_id, public) for key_id, public in published.items()]}
