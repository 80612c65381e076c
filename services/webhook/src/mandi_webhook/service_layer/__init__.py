"""service_layer of the webhook service."""
