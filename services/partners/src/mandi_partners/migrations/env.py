"""The partners service's Alembic environment: its tables' metadata, run by mandi_db."""

from mandi_db.migrations import run_migrations
from mandi_partners.adapters.tables import metadata

run_migrations(metadata)
