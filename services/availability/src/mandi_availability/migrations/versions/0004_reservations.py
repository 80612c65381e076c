"""The saga steps applied to availabilities: reservations, refusals and releases.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE reservations (
            tenant_id uuid NOT NULL,
            saga_id uuid NOT NULL,
            step text NOT NULL,
            availability_id uuid NOT NULL,
            status text NOT NULL CHECK (status IN ('reserved', 'refused', 'released')),
            quantity numeric NOT NULL CHECK (quantity >= 0),
            free numeric NOT NULL,
            deadline timestamptz,
            reason text NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (saga_id, step)
        )
    """)
    statements = [
        (
            "CREATE INDEX reservations_held ON reservations (availability_id, saga_id)"
            " WHERE status = 'reserved'"
        ),
        "CREATE INDEX reservations_due ON reservations (deadline) WHERE status = 'reserved'",
        *enable_tenant_isolation("reservations"),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_tenant_isolation("reservations"):
        op.execute(statement)
    op.execute("DROP TABLE reservations")
