"""The one registry of every event type on Mandi's topics, so any consumer can decode any event."""

from __future__ import annotations

from mandi_messaging.registry import EventRegistry

__all__ = ["EVENTS"]

EVENTS = EventRegistry()
