"""The risk service's tables (the migrations create them, with row-level security)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "assessments",
    "bureau_scores",
    "credit_limit_history",
    "credit_limits",
    "exposure_holds",
    "exposures",
    "metadata",
    "model_activations",
    "partners",
    "risk_models",
    "tenants",
    "trades",
]

metadata = sa.MetaData()

# What risk knows of each partner: standing and insider links from partners' events (as of the
# partner's `version`), the rating its officers gave, and its payment record.
partners = sa.Table(
    "partners",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("standing", sa.Text, nullable=False),
    sa.Column("group_id", sa.Uuid, nullable=True),
    sa.Column("director_fingerprints", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("contact_fingerprints", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("rating", sa.Text, nullable=True),
    sa.Column("payments_on_time", sa.Integer, nullable=False),
    sa.Column("payments_late", sa.Integer, nullable=False),
    sa.Column("days_late", sa.Integer, nullable=False),
)

credit_limits = sa.Table(
    "credit_limits",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("amount", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# Every version of every limit, as it was set: who, when, why.
credit_limit_history = sa.Table(
    "credit_limit_history",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("amount", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
)

# A partner's open exposure, the row a reservation locks: two sagas of one buyer take turns.
exposures = sa.Table(
    "exposures",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("open", sa.Numeric, nullable=False),
)

# Each saga step applied to a buyer's credit, with the answer it got (idempotency by step).
exposure_holds = sa.Table(
    "exposure_holds",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("saga_id", sa.Uuid, primary_key=True),
    sa.Column("step", sa.Text, primary_key=True),
    sa.Column("buyer_id", sa.Uuid, nullable=False),
    sa.Column("seller_id", sa.Uuid, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("amount", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("headroom", sa.Numeric, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Every decision, with who asked, the model, and the inputs it saw.
assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("buyer_id", sa.Uuid, nullable=False),
    sa.Column("seller_id", sa.Uuid, nullable=False),
    sa.Column("commodity", sa.Text, nullable=False),
    sa.Column("value", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("conditions", JSONB, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("features", JSONB, nullable=False),
    sa.Column("base", sa.Float, nullable=False),
    sa.Column("points", JSONB, nullable=False),
    sa.Column("bureau", JSONB, nullable=False),
    sa.Column("assessed_by", sa.Text, nullable=False),
    sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
)

# The last bureau score read live for each partner: what an assessment falls back on.
bureau_scores = sa.Table(
    "bureau_scores",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("partner_id", sa.Uuid, primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
)

# The model registry: each trained version's coefficients as JSON (never a pickle), digests of
# the artifact and of its training data, and its metrics.
risk_models = sa.Table(
    "risk_models",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("artifact", sa.LargeBinary, nullable=False),
    sa.Column("artifact_digest", sa.Text, nullable=False),
    sa.Column("training_digest", sa.Text, nullable=False),
    sa.Column("metrics", JSONB, nullable=False),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
)

# Who made which version decide, and when: the newest row is the active model.
model_activations = sa.Table(
    "model_activations",
    metadata,
    sa.Column("tenant_id", sa.Uuid, nullable=False),
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("action", sa.Text, nullable=False),  # promoted, rolled_back
    sa.Column("activated_by", sa.Text, nullable=False),
    sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
)

# Trades as matching's events told them: open while confirmed, ended once cancelled or settled.
# The commodity and `confirmed_at` come with the confirmation, which may arrive after the end.
trades = sa.Table(
    "trades",
    metadata,
    sa.Column("tenant_id", sa.Uuid, primary_key=True),
    sa.Column("trade_id", sa.Uuid, primary_key=True),
    sa.Column("buyer_id", sa.Uuid, nullable=False),
    sa.Column("seller_id", sa.Uuid, nullable=False),
    sa.Column("commodity", sa.Text, nullable=True),
    sa.Column("value", sa.Numeric, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # confirmed, cancelled, settled
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# The tenants the service holds data of, for the jobs that visit every tenant (no RLS).
tenants = sa.Table("tenants", metadata, sa.Column("id", sa.Uuid, primary_key=True))
