"""http of the risk service."""
