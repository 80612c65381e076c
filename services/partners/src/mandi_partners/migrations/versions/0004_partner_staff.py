"""A partner's staff: users auth created to act for a partner, linked as auth announces them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_staff",
        sa.Column("user_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("partner_id", sa.Uuid, nullable=False),
        sa.Column("roles", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("staff_of_partner", "partner_staff", ["tenant_id", "partner_id"])
    for statement in enable_tenant_isolation("partner_staff"):
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_tenant_isolation("partner_staff"):
        op.execute(statement)
    op.drop_table("partner_staff")
