"""The availability service's tables (the migrations create them, with row-level security)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "commodities",
    "metadata",
    "offers",
    "partner_standings",
    "reservations",
    "tenants",
]

metadata = sa.MetaData()

# A tenant's catalog: sizes of units and quality bounds are exact decimals kept as JSON strings.
commodities = sa.Table(
    "commodities",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("base_unit", sa.Text, nullable=False),
    sa.Column("units", JSONB, nullable=False),  # {"bale": "170", "kg": "1", ...}
    sa.Column("price_unit", sa.Text, nullable=False),
    sa.Column("grades", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("quality", JSONB, nullable=False),  # {"moisture_pct": {"unit", "min", "max"}}
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# What the partners service last said of each partner (its events, by the partner's version).
partner_standings = sa.Table(
    "partner_standings",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("standing", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# Availabilities and requirements; `place`, a geography point made from the coordinates by the
# database (a generated column with a GiST index), is left out: only searches read it.
offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("partner_id", sa.Uuid, nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("grade", sa.Text, nullable=False),
    sa.Column("quality", JSONB, nullable=False),  # {"moisture_pct": "8"}
    sa.Column("base_unit", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric, nullable=False),
    sa.Column("reserved", sa.Numeric, nullable=False),
    sa.Column("minimum_lot", sa.Numeric, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("price_unit", sa.Text, nullable=False),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("delivery_from", sa.Date, nullable=False),
    sa.Column("delivery_to", sa.Date, nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Each saga step applied to an availability, and what it was answered.
reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("saga_id", sa.Uuid, primary_key=True),
    sa.Column("step", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # the command: reserve, confirm or release
    sa.Column("availability_id", sa.Uuid, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric, nullable=False),
    sa.Column("free", sa.Numeric, nullable=False),
    sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# The tenants the service holds anything of, for the sweeps (no tenant's data, no RLS).
tenants = sa.Table("tenants", metadata, sa.Column("id", sa.Uuid, primary_key=True))
