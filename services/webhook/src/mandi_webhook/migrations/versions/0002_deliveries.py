"""Deliveries, their attempt log, endpoints that ask for their events in order, and the typed
consumer's sequencing tables (the service consumes public events from now on).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation
from mandi_messaging import create_sequencing_tables, drop_sequencing_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TENANT_TABLES = ("deliveries", "delivery_attempts")
_STATEMENTS = """
    ALTER TABLE endpoints ADD COLUMN ordered boolean NOT NULL DEFAULT false;
    CREATE TABLE deliveries (
        tenant_id uuid NOT NULL,
        id uuid PRIMARY KEY,
        sequence bigint GENERATED ALWAYS AS IDENTITY,
        endpoint_id uuid NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
        partner_id uuid NOT NULL,
        webhook_id text NOT NULL CHECK (length(webhook_id) BETWEEN 1 AND 200),
        event_type text NOT NULL,
        body bytea NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'dead')),
        attempts integer NOT NULL CHECK (attempts >= 0),
        next_attempt_at timestamptz NOT NULL,
        last_error text NOT NULL,
        correlation_id text,
        traceparent text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (endpoint_id, webhook_id)
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX deliveries_in_order ON deliveries (endpoint_id, sequence)
        WHERE status = 'pending';
    CREATE INDEX deliveries_of_endpoint ON deliveries (endpoint_id, created_at, id);
    CREATE INDEX deliveries_ended ON deliveries (updated_at) WHERE status <> 'pending';
    CREATE TABLE delivery_attempts (
        tenant_id uuid NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        status_code integer,
        latency_ms double precision NOT NULL,
        error text NOT NULL,
        response_excerpt text NOT NULL
    );
    CREATE INDEX delivery_attempts_of_delivery ON delivery_attempts (delivery_id, id);
    CREATE FUNCTION deliveries_wake_dispatcher() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('webhook_deliveries', '');
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER deliveries_wake_dispatcher AFTER INSERT ON deliveries
        FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake_dispatcher()
"""


def _statements(script: str) -> list[str]:
    # The function's body holds semicolons: split between statements, not inside the body.
    head, function, trigger = script.partition("CREATE FUNCTION")
    body, _, rest = trigger.partition("$$;")
    plain = [each.strip() for each in head.split(";") if each.strip()]
    return [*plain, f"{function}{body}$$", rest.strip()]


def upgrade() -> None:
    for statement in _statements(_STATEMENTS):
        op.execute(statement)
    for table in _TENANT_TABLES:
        for statement in enable_tenant_isolation(table):
            op.execute(statement)
    for statement in create_sequencing_tables():
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_sequencing_tables():
        op.execute(statement)
    for table in _TENANT_TABLES:
        for statement in disable_tenant_isolation(table):
            op.execute(statement)
    op.execute("DROP TABLE delivery_attempts, deliveries")
    op.execute("DROP FUNCTION deliveries_wake_dispatcher()")
    op.execute("ALTER TABLE endpoints DROP COLUMN ordered")
