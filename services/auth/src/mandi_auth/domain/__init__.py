"""The auth service's rules: identities, roles and scopes, credentials, limits. No frameworks."""
