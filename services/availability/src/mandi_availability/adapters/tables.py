"""The availability service's tables (the migrations create them, with row-level security)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["commodities", "metadata", "partner_standings"]

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
