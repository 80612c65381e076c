"""How the world reaches matching: HTTP, consumers, commands."""
