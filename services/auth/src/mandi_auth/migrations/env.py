"""The auth service's Alembic environment: its tables' metadata, run by mandi_db."""

from mandi_auth.adapters.tables import metadata
from mandi_db.migrations import run_migrations

run_migrations(metadata)
