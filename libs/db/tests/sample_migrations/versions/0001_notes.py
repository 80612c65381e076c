"""A tenant-scoped table with row-level security.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    for statement in enable_tenant_isolation("notes"):
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_tenant_isolation("notes"):
        op.execute(statement)
    op.drop_table("notes")
