"""Verification leases: which process is asking the verifier about an application, until when.

A replica claims an application (a committed lease) before calling the verifier, so two
replicas, or a replica's sweep and another's request, never ask about the same application at
once; a lease whose holder died runs out on its own.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "partners",
        sa.Column("verification_leased_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("partners", "verification_leased_until")
