"""entrypoints of the risk service."""
