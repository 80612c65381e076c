from mandi_db.migrations import run_migrations
from mandi_risk.adapters.tables import metadata

run_migrations(metadata)
