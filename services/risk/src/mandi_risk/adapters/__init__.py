"""adapters of the risk service."""
