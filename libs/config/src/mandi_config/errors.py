"""The error a settings problem becomes, so start-up can report it in one line."""

from __future__ import annotations

__all__ = ["ConfigurationError"]


class ConfigurationError(ValueError):
    """The process's configuration is unusable; the message names what to set, in one line."""
