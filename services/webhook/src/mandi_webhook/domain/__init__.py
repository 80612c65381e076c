"""domain of the webhook service."""
