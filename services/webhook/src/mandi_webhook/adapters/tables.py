"""The webhook service's tables (the migrations create them, with row-level security).

Signing secrets are stored sealed (AES-GCM under the service's field keys, each bound to its
column, tenant and row): the database never holds one in clear.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "deliveries",
    "delivery_attempts",
    "endpoint_secrets",
    "endpoints",
    "metadata",
    "tenants",
]

metadata = sa.MetaData()

# A partner's endpoint: where its events go, which types (an empty list: every type), whether
# it receives them (a disabled one says why), and how fast.
endpoints = sa.Table(
    "endpoints",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("partner_id", sa.Uuid, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event_types", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("rate_limit", sa.Integer, nullable=False),  # deliveries per second
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("ordered", sa.Boolean, nullable=False),
)

# An endpoint's signing secrets: the current one (no `expires_at`), and those a rotation left
# signing until their `expires_at`.
endpoint_secrets = sa.Table(
    "endpoint_secrets",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("endpoint_id", sa.Uuid, sa.ForeignKey("endpoints.id"), nullable=False),
    sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
)

# The tenants the service holds data of, for the jobs that visit every tenant (no RLS).
tenants = sa.Table("tenants", metadata, sa.Column("id", sa.Uuid, primary_key=True))

# One public event on its way to one endpoint: its body, made once, and where it stands. A
# pending one is due at `next_attempt_at`; a claimed one's is pushed past its attempt (a lease).
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("sequence", sa.BigInteger, sa.Identity(always=True)),
    sa.Column("endpoint_id", sa.Uuid, sa.ForeignKey("endpoints.id"), nullable=False),
    sa.Column("partner_id", sa.Uuid, nullable=False),
    sa.Column("webhook_id", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("correlation_id", sa.Text, nullable=True),
    sa.Column("traceparent", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Every attempt of a delivery: what the receiver answered (or what failed), and how fast.
delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("delivery_id", sa.Uuid, sa.ForeignKey("deliveries.id"), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("response_excerpt", sa.Text, nullable=False),
)
