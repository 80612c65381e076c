"""The audit service's tables (the migrations create them, with their guards).

`audit_records` is the log: one hash chain per tenant, appended to and never changed. The
database refuses UPDATE, DELETE and TRUNCATE on it (a trigger, and the application role holds
only INSERT and SELECT), as it does on `audit_checkpoints`. `audit_chains` is bookkeeping each
append and checkpoint moves: where a tenant's head is and when it was last signed and verified.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "audit_chains",
    "audit_checkpoints",
    "audit_records",
    "audit_signing_keys",
    "metadata",
]

metadata = sa.MetaData()

audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False, unique=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("aggregate", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("correlation_id", sa.Text, nullable=False),
    sa.Column("payload_digest", sa.LargeBinary, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # the bytes as produced
    sa.Column("parties", sa.ARRAY(sa.Uuid), nullable=False),  # the partners it concerns
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("prev_hash", sa.LargeBinary, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
)

audit_chains = sa.Table(
    "audit_chains",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("head_seq", sa.BigInteger, nullable=False),
    sa.Column("head_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("checkpoint_seq", sa.BigInteger, nullable=False),
    sa.Column("checkpoint_at", sa.DateTime(timezone=True), nullable=True),
)

audit_signing_keys = sa.Table(
    "audit_signing_keys",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("public_key", sa.LargeBinary, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
)
