"""Trades as risk knows them from matching's events: buyer, seller, value and whether each is
still open, with an index per side for a partner's open trades.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# A trade heard of first by its cancellation or settlement has no commodity and no time of
# confirmation until its confirmation arrives; one that is open has both.
_TABLES = """
    CREATE TABLE trades (
        tenant_id uuid NOT NULL,
        trade_id uuid NOT NULL,
        buyer_id uuid NOT NULL,
        seller_id uuid NOT NULL,
        commodity text,
        value numeric NOT NULL CHECK (value >= 0),
        currency text NOT NULL,
        status text NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'settled')),
        confirmed_at timestamptz,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, trade_id),
        CHECK ((commodity IS NULL) = (confirmed_at IS NULL)),
        CHECK (status <> 'confirmed' OR confirmed_at IS NOT NULL)
    );
    CREATE INDEX trades_open_of_buyer ON trades (buyer_id, seller_id)
        WHERE status = 'confirmed';
    CREATE INDEX trades_open_of_seller ON trades (seller_id, buyer_id)
        WHERE status = 'confirmed';
"""


def upgrade() -> None:
    statements = [
        *(table.strip() for table in _TABLES.split(";") if table.strip()),
        *enable_tenant_isolation("trades"),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_tenant_isolation("trades"):
        op.execute(statement)
    op.execute("DROP TABLE trades")
