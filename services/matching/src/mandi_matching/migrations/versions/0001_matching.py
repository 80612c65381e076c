"""The read model of the book, partners, risk and the catalog; proposals, sagas and trades;
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
from mandi_saga import create_saga_tables, drop_saga_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TENANT_TABLES = ("offers", "partners", "risk_views", "catalog", "proposals", "trades")
_TABLES = """
    CREATE TABLE offers (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('availability', 'requirement')),
        partner_id uuid NOT NULL,
        commodity text NOT NULL,
        grade text NOT NULL,
        quality jsonb NOT NULL,
        base_unit text NOT NULL,
        quantity numeric NOT NULL CHECK (quantity > 0),
        free numeric NOT NULL CHECK (free >= 0),
        minimum_lot numeric NOT NULL CHECK (minimum_lot > 0),
        price numeric NOT NULL CHECK (price >= 0),
        currency text NOT NULL,
        price_unit text NOT NULL,
        latitude double precision NOT NULL,
        longitude double precision NOT NULL,
        place geography(Point, 4326) GENERATED ALWAYS AS
            (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography) STORED,
        city text NOT NULL,
        state text NOT NULL,
        delivery_from date NOT NULL,
        delivery_to date NOT NULL,
        valid_until timestamptz NOT NULL,
        open boolean NOT NULL,
        version integer NOT NULL
    );
    CREATE INDEX offers_open_place ON offers USING gist (place) WHERE open;
    CREATE INDEX offers_open_book ON offers (tenant_id, kind, commodity, delivery_from)
        WHERE open;
    CREATE INDEX offers_of_partner ON offers (tenant_id, partner_id) WHERE open;
    CREATE TABLE partners (
        tenant_id uuid NOT NULL,
        partner_id uuid PRIMARY KEY,
        may_trade boolean NOT NULL,
        group_id uuid,
        director_fingerprints text[] NOT NULL,
        contact_fingerprints text[] NOT NULL,
        version integer NOT NULL
    );
    CREATE TABLE risk_views (
        tenant_id uuid NOT NULL,
        buyer_id uuid NOT NULL,
        seller_id uuid NOT NULL,
        score integer NOT NULL CHECK (score BETWEEN 0 AND 100),
        decision text NOT NULL,
        assessed_at timestamptz NOT NULL,
        PRIMARY KEY (buyer_id, seller_id)
    );
    CREATE TABLE catalog (
        tenant_id uuid NOT NULL,
        commodity text NOT NULL,
        version integer NOT NULL,
        quality_ranges jsonb NOT NULL,
        PRIMARY KEY (tenant_id, commodity)
    );
    CREATE TABLE proposals (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        requirement_id uuid NOT NULL,
        availability_id uuid NOT NULL,
        buyer_id uuid NOT NULL,
        seller_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN
            ('open', 'accepted', 'declined', 'withdrawn', 'failed', 'traded')),
        score numeric NOT NULL CHECK (score BETWEEN 0 AND 100),
        commodity text NOT NULL,
        grade text NOT NULL,
        quantity numeric NOT NULL CHECK (quantity > 0),
        base_unit text NOT NULL,
        price numeric NOT NULL,
        currency text NOT NULL,
        price_unit text NOT NULL,
        value numeric NOT NULL,
        scorer_name text NOT NULL,
        scorer_version integer NOT NULL,
        breakdown jsonb NOT NULL,
        rationale text NOT NULL,
        inputs jsonb NOT NULL,
        saga_id uuid,
        reason text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL
    );
    CREATE UNIQUE INDEX proposals_one_open_per_pair ON proposals (requirement_id, availability_id)
        WHERE status = 'open';
    CREATE INDEX proposals_of_buyer ON proposals (tenant_id, buyer_id, status, score DESC, id);
    CREATE INDEX proposals_of_seller ON proposals (tenant_id, seller_id, status, score DESC, id);
    CREATE INDEX proposals_of_availability ON proposals (availability_id) WHERE status = 'open';
    CREATE INDEX proposals_of_requirement ON proposals (requirement_id, status, score DESC);
    CREATE TABLE trades (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        saga_id uuid NOT NULL UNIQUE,
        proposal_id uuid NOT NULL,
        requirement_id uuid NOT NULL,
        availability_id uuid NOT NULL,
        buyer_id uuid NOT NULL,
        seller_id uuid NOT NULL,
        commodity text NOT NULL,
        grade text NOT NULL,
        quantity numeric NOT NULL CHECK (quantity > 0),
        unit text NOT NULL,
        price numeric NOT NULL,
        currency text NOT NULL,
        price_unit text NOT NULL,
        value numeric NOT NULL,
        delivery_from date NOT NULL,
        delivery_to date NOT NULL,
        delivery_city text NOT NULL,
        delivery_state text NOT NULL,
        status text NOT NULL
            CHECK (status IN ('confirmed', 'cancelling', 'cancelled', 'settled')),
        cancel_saga_id uuid UNIQUE,
        cancel_reason text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL
    );
    CREATE INDEX trades_of_buyer ON trades (tenant_id, buyer_id, created_at DESC, id DESC);
    CREATE INDEX trades_of_seller ON trades (tenant_id, seller_id, created_at DESC, id DESC);
    CREATE INDEX trades_recent ON trades (tenant_id, created_at DESC, id DESC);
    CREATE TABLE tenants (id uuid PRIMARY KEY);
"""


def upgrade() -> None:
    statements = [
        *(table.strip() for table in _TABLES.split(";") if table.strip()),
        *(statement for table in _TENANT_TABLES for statement in enable_tenant_isolation(table)),
        *create_saga_tables(),
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
        *drop_saga_tables(),
        *(statement for table in _TENANT_TABLES for statement in disable_tenant_isolation(table)),
    ]
    for statement in statements:
        op.execute(statement)
    op.execute("DROP TABLE tenants, trades, proposals, catalog, risk_views, partners, offers")
