"""Partners' endpoints and their sealed signing secrets; idempotency keys and the outbox.

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
from mandi_messaging import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TENANT_TABLES = ("endpoints", "endpoint_secrets")
_TABLES = """
    CREATE TABLE endpoints (
        tenant_id uuid NOT NULL,
        id uuid PRIMARY KEY,
        partner_id uuid NOT NULL,
        url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
        event_types text[] NOT NULL,
        enabled boolean NOT NULL,
        disabled_reason text,
        description text NOT NULL CHECK (length(description) <= 500),
        rate_limit integer NOT NULL CHECK (rate_limit BETWEEN 1 AND 10000),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        CHECK (enabled = (disabled_reason IS NULL))
    );
    CREATE INDEX endpoints_listed ON endpoints (tenant_id, created_at, id);
    CREATE INDEX endpoints_of_partner ON endpoints (tenant_id, partner_id, created_at, id);
    CREATE TABLE endpoint_secrets (
        tenant_id uuid NOT NULL,
        id uuid PRIMARY KEY,
        endpoint_id uuid NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
        secret_sealed bytea NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        CHECK (expires_at IS NULL OR expires_at >= created_at)
    );
    CREATE INDEX endpoint_secrets_of_endpoint ON endpoint_secrets (endpoint_id, created_at);
    CREATE UNIQUE INDEX endpoint_secrets_one_current ON endpoint_secrets (endpoint_id)
        WHERE expires_at IS NULL;
    CREATE TABLE tenants (id uuid PRIMARY KEY);
"""


def upgrade() -> None:
    statements = [
        *(table.strip() for table in _TABLES.split(";") if table.strip()),
        *(statement for table in _TENANT_TABLES for statement in enable_tenant_isolation(table)),
        *create_idempotency_table(),
        *create_messaging_tables(),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = [
        *drop_messaging_tables(),
        *drop_idempotency_table(),
        *(statement for table in _TENANT_TABLES for statement in disable_tenant_isolation(table)),
    ]
    for statement in statements:
        op.execute(statement)
    op.execute("DROP TABLE tenants, endpoint_secrets, endpoints")
