"""Partners, their tax ids, contacts and locations; tenants; idempotency keys, outbox and inbox.

Row-level security binds every table holding a tenant's data to that tenant. `tenants` holds
only the ids of tenants with partners, read by the background jobs before any tenant is chosen.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

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

TENANT_TABLES = ("partners", "partner_tax_ids", "partner_contacts", "partner_locations")


def _owned_by_partner() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "partner_id",
            sa.Uuid(),
            sa.ForeignKey("partners.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table("tenants", sa.Column("id", sa.Uuid(), primary_key=True))
    op.create_table(
        "partners",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("legal_name", sa.Text(), nullable=False),
        sa.Column("trade_name", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("types", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("verification", sa.Text(), nullable=False),
        sa.Column("review_notes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("risk_flags", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("partners_by_creation", "partners", ["tenant_id", "created_at", "id"])
    op.create_index("partners_by_status", "partners", ["tenant_id", "status", "verification"])
    op.create_index("partners_by_group", "partners", ["tenant_id", "group_id"])
    op.create_table(
        "partner_tax_ids",
        *_owned_by_partner(),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("value_index", sa.LargeBinary(), nullable=False),
        sa.Column("value_sealed", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("tenant_id", "kind", "country", "value_index", name="tax_ids_unique"),
    )
    op.create_index("tax_ids_of_partner", "partner_tax_ids", ["partner_id"])
    op.create_table(
        "partner_contacts",
        *_owned_by_partner(),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("email_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("email_index", sa.LargeBinary(), nullable=True),
        sa.Column("phone_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.LargeBinary(), nullable=True),
        sa.Column("is_director", sa.Boolean(), nullable=False),
    )
    op.create_index("contacts_of_partner", "partner_contacts", ["partner_id"])
    op.create_index("contacts_by_email", "partner_contacts", ["tenant_id", "email_index"])
    op.create_index("contacts_by_phone", "partner_contacts", ["tenant_id", "phone_index"])
    op.create_table(
        "partner_locations",
        *_owned_by_partner(),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("place_id", sa.Text(), nullable=True),
    )
    op.create_index("locations_of_partner", "partner_locations", ["partner_id"])
    for table in TENANT_TABLES:
        for statement in enable_tenant_isolation(table):
            op.execute(statement)
    for statement in [*create_idempotency_table(), *create_messaging_tables()]:
        op.execute(statement)


def downgrade() -> None:
    for statement in [*drop_messaging_tables(), *drop_idempotency_table()]:
        op.execute(statement)
    for table in reversed(TENANT_TABLES):
        for statement in disable_tenant_isolation(table):
            op.execute(statement)
    for table in ("partner_locations", "partner_contacts", "partner_tax_ids", "partners"):
        op.drop_table(table)
    op.drop_table("tenants")
