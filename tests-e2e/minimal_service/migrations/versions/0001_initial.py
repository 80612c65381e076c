"""Notes; the outbox, inbox and the consumer's bookkeeping.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from mandi_db import enable_tenant_isolation
from mandi_messaging import create_messaging_tables, create_sequencing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("words", sa.Integer, nullable=True),
    )
    statements = enable_tenant_isolation("notes")
    for statement in [*statements, *create_messaging_tables(), *create_sequencing_tables()]:
        op.execute(statement)
