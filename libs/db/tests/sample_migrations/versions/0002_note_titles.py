"""Notes get a title.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("title", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("notes", "title")
