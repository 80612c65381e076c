"""How the partners service is reached: its HTTP API and its commands."""
