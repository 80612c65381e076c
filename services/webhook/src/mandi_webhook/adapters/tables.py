"""The webhook service's tables (the migrations create them, with row-level security).

Signing secrets are stored sealed (AES-GCM under the service's field keys, each bound to its
column, tenant and row): the database never holds one in clear.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["endpoint_secrets", "endpoints", "metadata", "tenants"]

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
