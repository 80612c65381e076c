"""Partners as risk sees them, credit limits and exposure, assessments, the model registry;
idempotency keys, the outbox, the inbox and the consumers' sequencing tables.

Revision ID: 0001
Revises:
"""

from alembic import op

from mandi_db import (
    create_idempotency_table,
    disable_tenant_isolation,
    drop_idempotency_table,
    enable_tenant_isolation,
)
from mandi_messaging import (
    create_messaging_tables,
    create_sequencing_tables,
    drop_messaging_tables,
    drop_sequencing_tables,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TENANT_TABLES = (
    "partners",
    "credit_limits",
    "credit_limit_history",
    "exposures",
    "exposure_holds",
    "assessments",
    "bureau_scores",
    "risk_models",
    "model_activations",
)
_TABLES = """
    CREATE TABLE partners (
        tenant_id uuid NOT NULL,
        partner_id uuid PRIMARY KEY,
        standing text NOT NULL
            CHECK (standing IN ('pending', 'approved', 'suspended', 'rejected')),
        group_id uuid,
        director_fingerprints text[] NOT NULL,
        contact_fingerprints text[] NOT NULL,
        version integer NOT NULL,
        rating text CHECK (rating IN ('AAA', 'AA', 'A', 'BBB', 'BB', 'B', 'C', 'D')),
        payments_on_time integer NOT NULL CHECK (payments_on_time >= 0),
        payments_late integer NOT NULL CHECK (payments_late >= 0),
        days_late integer NOT NULL CHECK (days_late >= 0)
    );
    CREATE TABLE credit_limits (
        tenant_id uuid NOT NULL,
        partner_id uuid PRIMARY KEY,
        amount numeric NOT NULL CHECK (amount >= 0),
        currency text NOT NULL,
        reason text NOT NULL,
        set_by text NOT NULL,
        set_at timestamptz NOT NULL,
        version integer NOT NULL
    );
    CREATE TABLE credit_limit_history (
        tenant_id uuid NOT NULL,
        partner_id uuid NOT NULL,
        version integer NOT NULL,
        amount numeric NOT NULL CHECK (amount >= 0),
        currency text NOT NULL,
        reason text NOT NULL,
        set_by text NOT NULL,
        set_at timestamptz NOT NULL,
        PRIMARY KEY (partner_id, version)
    );
    CREATE TABLE exposures (
        tenant_id uuid NOT NULL,
        partner_id uuid PRIMARY KEY,
        currency text NOT NULL,
        open numeric NOT NULL CHECK (open >= 0)
    );
    CREATE TABLE exposure_holds (
        tenant_id uuid NOT NULL,
        saga_id uuid NOT NULL,
        step text NOT NULL,
        buyer_id uuid NOT NULL,
        seller_id uuid,
        status text NOT NULL CHECK (status IN ('reserved', 'refused', 'released')),
        amount numeric NOT NULL CHECK (amount >= 0),
        currency text NOT NULL,
        headroom numeric NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (saga_id, step)
    );
    CREATE INDEX exposure_holds_open ON exposure_holds (buyer_id, seller_id)
        WHERE status = 'reserved';
    CREATE INDEX exposure_holds_of_saga ON exposure_holds (saga_id, buyer_id)
        WHERE status = 'reserved';
    CREATE TABLE assessments (
        tenant_id uuid NOT NULL,
        id uuid PRIMARY KEY,
        buyer_id uuid NOT NULL,
        seller_id uuid NOT NULL,
        commodity text NOT NULL,
        value numeric NOT NULL,
        currency text NOT NULL,
        score integer NOT NULL CHECK (score BETWEEN 0 AND 100),
        decision text NOT NULL
            CHECK (decision IN ('APPROVE', 'APPROVE_WITH_CONDITIONS', 'REJECT')),
        conditions jsonb NOT NULL,
        rationale text NOT NULL,
        model_name text NOT NULL,
        model_version integer NOT NULL,
        features jsonb NOT NULL,
        base double precision NOT NULL,
        points jsonb NOT NULL,
        bureau jsonb NOT NULL,
        assessed_by text NOT NULL,
        assessed_at timestamptz NOT NULL
    );
    CREATE INDEX assessments_recent ON assessments (tenant_id, assessed_at DESC, id DESC);
    CREATE INDEX assessments_of_buyer ON assessments (buyer_id, assessed_at DESC);
    CREATE INDEX assessments_of_model ON assessments (model_name, model_version, assessed_at DESC);
    CREATE TABLE bureau_scores (
        tenant_id uuid NOT NULL,
        partner_id uuid PRIMARY KEY,
        score integer NOT NULL CHECK (score BETWEEN 300 AND 900),
        as_of timestamptz NOT NULL
    );
    CREATE TABLE risk_models (
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        artifact bytea NOT NULL,
        artifact_digest text NOT NULL,
        training_digest text NOT NULL,
        metrics jsonb NOT NULL,
        registered_by text NOT NULL,
        registered_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, name, version)
    );
    CREATE TABLE model_activations (
        tenant_id uuid NOT NULL,
        id bigserial PRIMARY KEY,
        name text NOT NULL,
        version integer NOT NULL,
        action text NOT NULL CHECK (action IN ('promoted', 'rolled_back')),
        activated_by text NOT NULL,
        activated_at timestamptz NOT NULL,
        FOREIGN KEY (tenant_id, name, version) REFERENCES risk_models (tenant_id, name, version)
    );
    CREATE INDEX model_activations_latest ON model_activations (tenant_id, id DESC);
    CREATE TABLE tenants (id uuid PRIMARY KEY);
"""


def upgrade() -> None:
    statements = [
        *(table.strip() for table in _TABLES.split(";") if table.strip()),
        *(statement for table in _TENANT_TABLES for statement in enable_tenant_isolation(table)),
        *create_idempotency_table(),
        *create_messaging_tables(),
        *create_sequencing_tables(),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = [
        *drop_sequencing_tables(),
        *drop_messaging_tables(),
        *drop_idempotency_table(),
        *(statement for table in _TENANT_TABLES for statement in disable_tenant_isolation(table)),
    ]
    for statement in statements:
        op.execute(statement)
    op.execute(
        "DROP TABLE tenants, model_activations, risk_models, bureau_scores, assessments,"
        " exposure_holds, exposures, credit_limit_history, credit_limits, partners"
    )
