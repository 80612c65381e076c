"""The tenants the service holds offers of, for the sweeps that visit every tenant.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only ids: no tenant's data, so no row-level security (a tenantless unit of work reads it).
    op.create_table("tenants", sa.Column("id", sa.Uuid(), primary_key=True))
    op.execute("INSERT INTO tenants SELECT DISTINCT tenant_id FROM commodities")


def downgrade() -> None:
    op.drop_table("tenants")
