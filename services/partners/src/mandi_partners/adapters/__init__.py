"""The partners service's adapters: PostgreSQL, field encryption, the verifier's HTTP API."""
