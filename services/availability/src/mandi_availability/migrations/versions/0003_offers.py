"""Availabilities and requirements: one table of offers, with a geography point per offer.

The database holds what no code path may break: quantities above zero, no more reserved than
offered, a lot no bigger than the quantity, a window that ends after it starts. The place is
generated from the coordinates, and each list filter has its index.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
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
            reserved numeric NOT NULL CHECK (reserved >= 0 AND reserved <= quantity),
            minimum_lot numeric NOT NULL CHECK (minimum_lot > 0 AND minimum_lot <= quantity),
            price numeric NOT NULL CHECK (price >= 0),
            currency text NOT NULL,
            price_unit text NOT NULL,
            latitude double precision NOT NULL,
            longitude double precision NOT NULL,
            place geography(Point, 4326) GENERATED ALWAYS AS
                (ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography) STORED,
            state text NOT NULL,
            city text NOT NULL,
            label text NOT NULL,
            delivery_from date NOT NULL,
            delivery_to date NOT NULL CHECK (delivery_to >= delivery_from),
            valid_until timestamptz NOT NULL,
            status text NOT NULL,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
    """)
    statements = [
        "CREATE INDEX offers_place ON offers USING gist (place)",
        # The book's lists: a side of one commodity, by status, ordered or bounded by price.
        "CREATE INDEX offers_book ON offers (tenant_id, kind, commodity, status, price)",
        "CREATE INDEX offers_of_partner ON offers (tenant_id, partner_id, created_at, id)",
        "CREATE INDEX offers_state_city ON offers (tenant_id, state, city)",
        # The expiry sweep finds what is live and past its validity.
        (
            "CREATE INDEX offers_expiring ON offers (valid_until)"
            " WHERE status IN ('draft', 'published', 'partially_reserved')"
        ),
        *enable_tenant_isolation("offers"),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_tenant_isolation("offers"):
        op.execute(statement)
    op.execute("DROP TABLE offers")
