"""The availability API."""
