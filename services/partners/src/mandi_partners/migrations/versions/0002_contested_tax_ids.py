"""Contested tax ids: a tax id another partner holds, kept on an application its staff amended.

The partner's own staff are not told that another company holds the tax id they entered, so it
is stored, marked contested; one company per tax id now holds over uncontested rows, and an
application with a contested tax id is not approved.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_KEY = ["tenant_id", "kind", "country", "value_index"]


def upgrade() -> None:
    op.add_column(
        "partner_tax_ids",
        sa.Column("contested", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.drop_constraint("tax_ids_unique", "partner_tax_ids", type_="unique")
    op.create_index(
        "tax_ids_unique",
        "partner_tax_ids",
        _KEY,
        unique=True,
        postgresql_where=sa.text("NOT contested"),
    )


def downgrade() -> None:
    # Without the flag a contested claim would break the unique constraint: the applications
    # that made one lose that tax id and give it again. Every tenant's rows: the owner is bound
    # by row-level security too (FORCE) until it is lifted for this statement.
    op.execute("ALTER TABLE partner_tax_ids NO FORCE ROW LEVEL SECURITY")
    op.execute("DELETE FROM partner_tax_ids WHERE contested")
    op.execute("ALTER TABLE partner_tax_ids FORCE ROW LEVEL SECURITY")
    op.drop_index("tax_ids_unique", table_name="partner_tax_ids")
    op.create_unique_constraint("tax_ids_unique", "partner_tax_ids", _KEY)
    op.drop_column("partner_tax_ids", "contested")
