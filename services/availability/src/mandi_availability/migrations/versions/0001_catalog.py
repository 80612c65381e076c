"""The commodity catalog; idempotency keys, the outbox and the inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

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


def upgrade() -> None:
    op.create_table(
        "commodities",
        sa.Column("tenant_id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("base_unit", sa.Text, nullable=False),
        sa.Column("units", JSONB, nullable=False),
        sa.Column("price_unit", sa.Text, nullable=False),
        sa.Column("grades", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("quality", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    statements = [
        *enable_tenant_isolation("commodities"),
        *create_idempotency_table(),
        *create_messaging_tables(),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = [
        *drop_messaging_tables(),
        *drop_idempotency_table(),
        *disable_tenant_isolation("commodities"),
    ]
    for statement in statements:
        op.execute(statement)
    op.drop_table("commodities")
