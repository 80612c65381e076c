from mandi_db.migrations import run_migrations
from mandi_webhook.adapters.tables import metadata

run_migrations(metadata)
