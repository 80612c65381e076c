"""The auth service's use cases, written against ports the adapters implement."""
