"""Partners' standing, from the partners service's events; the consumers' sequencing tables.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from mandi_db import disable_tenant_isolation, enable_tenant_isolation
from mandi_messaging import create_sequencing_tables, drop_sequencing_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_standings",
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("partner_id", sa.Uuid, primary_key=True),
        sa.Column("standing", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    for statement in [*enable_tenant_isolation("partner_standings"), *create_sequencing_tables()]:
        op.execute(statement)


def downgrade() -> None:
    for statement in [*drop_sequencing_tables(), *disable_tenant_isolation("partner_standings")]:
        op.execute(statement)
    op.drop_table("partner_standings")
