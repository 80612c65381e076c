"""entrypoints of the webhook service."""
