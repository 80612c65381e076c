"""The availability service's use cases."""
