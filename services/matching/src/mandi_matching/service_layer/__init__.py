"""The use cases of matching and trades."""
