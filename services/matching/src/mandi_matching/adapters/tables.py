"""The matching service's tables (the migrations create them, with row-level security)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "catalog",
    "metadata",
    "offers",
    "partners",
    "proposals",
    "risk_views",
    "tenants",
    "trades",
]

metadata = sa.MetaData()

# The open book as matching sees it, from availability's events (as of each offer's
# `version`); `place` is a geography point the database makes from the coordinates.
offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("partner_id", sa.Uuid, nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("grade", sa.Text, nullable=False),
    sa.Column("quality", JSONB, nullable=False),
    sa.Column("base_unit", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric, nullable=False),
    sa.Column("free", sa.Numeric, nullable=False),
    sa.Column("minimum_lot", sa.Numeric, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("price_unit", sa.Text, nullable=False),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("delivery_from", sa.Date, nullable=False),
    sa.Column("delivery_to", sa.Date, nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("open", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# Partners as matching sees them: whether they may trade, and their insider links.
partners = sa.Table(
    "partners",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("may_trade", sa.Boolean, nullable=False),
    sa.Column("group_id", sa.Uuid, nullable=True),
    sa.Column("director_fingerprints", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("contact_fingerprints", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# The latest risk assessment of each buyer and seller pair.
risk_views = sa.Table(
    "risk_views",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("buyer_id", sa.Uuid, primary_key=True),
    sa.Column("seller_id", sa.Uuid, primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
)

# The catalog's commodities: the version matching has seen, and the quality ranges.
catalog = sa.Table(
    "catalog",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("commodity", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("quality_ranges", JSONB, nullable=False),
)

# Every proposal, as its decision made it: the scorer, inputs, breakdown and rationale.
proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("requirement_id", sa.Uuid, nullable=False),
    sa.Column("availability_id", sa.Uuid, nullable=False),
    sa.Column("buyer_id", sa.Uuid, nullable=False),
    sa.Column("seller_id", sa.Uuid, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("score", sa.Numeric, nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("grade", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric, nullable=False),
    sa.Column("base_unit", sa.Text, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("price_unit", sa.Text, nullable=False),
    sa.Column("value", sa.Numeric, nullable=False),
    sa.Column("scorer_name", sa.Text, nullable=False),
    sa.Column("scorer_version", sa.Integer, nullable=False),
    sa.Column("breakdown", JSONB, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("inputs", JSONB, nullable=False),
    sa.Column("saga_id", sa.Uuid, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

trades = sa.Table(
    "trades",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("saga_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("proposal_id", sa.Uuid, nullable=False),
    sa.Column("requirement_id", sa.Uuid, nullable=False),
    sa.Column("availability_id", sa.Uuid, nullable=False),
    sa.Column("buyer_id", sa.Uuid, nullable=False),
    sa.Column("seller_id", sa.Uuid, nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("grade", sa.Text, nullable=False),
    sa.Column("quantity", sa.Numeric, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("price", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("price_unit", sa.Text, nullable=False),
    sa.Column("value", sa.Numeric, nullable=False),
    sa.Column("delivery_from", sa.Date, nullable=False),
    sa.Column("delivery_to", sa.Date, nullable=False),
    sa.Column("delivery_city", sa.Text, nullable=False),
    sa.Column("delivery_state", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("cancel_saga_id", sa.Uuid, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

tenants = sa.Table("tenants", metadata, sa.Column("id", sa.Uuid, primary_key=True))
