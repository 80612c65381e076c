"""The auth service's HTTP API."""
