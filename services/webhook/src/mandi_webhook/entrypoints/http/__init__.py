"""http of the webhook service."""
