"""The order book's rules: catalog, units and exact quantities, offers and their lives."""
