"""The partners service's tables. Tax ids and contacts' names, emails and phones are stored sealed.

Each sealed value that is looked up or kept unique has a blind index beside it (a keyed hash
with a key of its own per column). `tenants` lists the tenants that have partners, so the
background jobs (verification retries, re-encryption) can visit each tenant in turn: it holds
only ids and is the one table without row-level security.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    false,
    text,
)

__all__ = [
    "contacts",
    "locations",
    "metadata",
    "partners",
    "staff",
    "tax_ids",
    "tenants",
]

metadata = MetaData()

tenants = Table("tenants", metadata, Column("id", Uuid, primary_key=True))

partners = Table(
    "partners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("legal_name", Text, nullable=False),
    Column("trade_name", Text, nullable=True),
    Column("country", Text, nullable=False),
    Column("types", ARRAY(Text), nullable=False),
    Column("group_id", Uuid, nullable=True),
    Column("status", Text, nullable=False),
    Column("verification", Text, nullable=False),
    Column("review_notes", ARRAY(Text), nullable=False),
    Column("risk_flags", ARRAY(Text), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    # Who asks the verifier about this application, until when (see claim_verification).
    Column("verification_leased_until", DateTime(timezone=True), nullable=True),
    Index("partners_by_creation", "tenant_id", "created_at", "id"),
    Index("partners_by_status", "tenant_id", "status", "verification"),
    Index("partners_by_group", "tenant_id", "group_id"),
)


def _partner_column() -> Column[object]:
    return Column("partner_id", Uuid, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False)


tax_ids = Table(
    "partner_tax_ids",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    _partner_column(),
    Column("position", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("value_index", LargeBinary, nullable=False),
    Column("value_sealed", LargeBinary, nullable=False),
    # Another partner holds it: the partner's own staff entered it and were not told (0002).
    Column("contested", Boolean, nullable=False, server_default=false()),
    # One company per tax id in a marketplace: a second registration is a duplicate. Contested
    # rows are claims, not holdings, and an application with one is not approved.
    Index(
        "tax_ids_unique",
        "tenant_id",
        "kind",
        "country",
        "value_index",
        unique=True,
        postgresql_where=text("NOT contested"),
    ),
    Index("tax_ids_of_partner", "partner_id"),
)

contacts = Table(
    "partner_contacts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    _partner_column(),
    Column("position", Integer, nullable=False),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("email_sealed", LargeBinary, nullable=True),
    Column("email_index", LargeBinary, nullable=True),
    Column("phone_sealed", LargeBinary, nullable=True),
    Column("phone_index", LargeBinary, nullable=True),
    Column("is_director", Boolean, nullable=False),
    Index("contacts_of_partner", "partner_id"),
    Index("contacts_by_email", "tenant_id", "email_index"),
    Index("contacts_by_phone", "tenant_id", "phone_index"),
)

locations = Table(
    "partner_locations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    _partner_column(),
    Column("position", Integer, nullable=False),
    Column("label", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("place_id", Text, nullable=True),
    Index("locations_of_partner", "partner_id"),
)

# Users auth created for a partner (UserCreated). No foreign key to partners: auth may announce
# a user of a partner this service has not registered yet, and the link must not be lost.
staff = Table(
    "partner_staff",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("partner_id", Uuid, nullable=False),
    Column("roles", ARRAY(Text), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    Index("staff_of_partner", "tenant_id", "partner_id"),
)
