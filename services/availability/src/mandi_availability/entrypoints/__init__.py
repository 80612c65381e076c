"""How the world reaches the availability service: HTTP, and its definition for the runtime."""
