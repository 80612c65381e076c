"""The partners service's HTTP API."""
