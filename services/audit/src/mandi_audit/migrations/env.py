from mandi_audit.adapters.tables import metadata
from mandi_db.migrations import run_migrations

run_migrations(metadata)
