"""adapters of the webhook service."""
