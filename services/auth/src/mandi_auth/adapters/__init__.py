"""The auth service's adapters: PostgreSQL, Redis, argon2, Ed25519."""
