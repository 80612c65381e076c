"""domain of the risk service."""
