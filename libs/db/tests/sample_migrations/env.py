"""A service's migrations/env.py is this one line: hand Alembic the metadata."""

from mandi_db.migrations import run_migrations

run_migrations(None)
