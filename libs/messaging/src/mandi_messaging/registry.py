"""Versioned event types as Pydantic models, and upcasters that read old versions as the newest.

A type name on the wire is `mandi.<aggregate>.<event>.v<N>` (e.g. `mandi.partner.registered.v2`;
docs/events.md has the whole scheme). A new version is a new model; the consumer keeps an
upcaster per step (v1 → v2 → …) so a message written long ago still decodes into the model the
handler expects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["Event", "EventRegistry", "UndecodableEvent", "UnknownEventType", "event_name"]

_TYPE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)\.v(?P<version>[1-9][0-9]*)$")
EventT = TypeVar("EventT", bound="Event")
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Event(BaseModel):
    """Base of every event and command; frozen, and tolerant of fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[str] = ""


class UnknownEventType(LookupError):
    """No model is registered for this type name or version."""


class UndecodableEvent(ValueError):
    """The data does not fit the model of its type, even after upcasting."""


def event_name(type_name: str) -> str | None:
    """The name without its version (`mandi.user.created` of `…created.v2`); None if unversioned."""
    match = _TYPE.match(type_name)
    return match["name"] if match else None


def _split(type_name: str) -> tuple[str, int]:
    match = _TYPE.match(type_name)
    if match is None:
        raise UnknownEventType(f"not a versioned event type: {type_name!r}")
    return match["name"], int(match["version"])


class EventRegistry:
    """The event types one service writes or reads, by name and version."""

    def __init__(self) -> None:
        self._models: dict[str, dict[int, type[Event]]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def event(self, name: str, version: int) -> Callable[[type[EventT]], type[EventT]]:
        """Class decorator: registers a model as version `version` of event `name`."""

        def register(model: type[EventT]) -> type[EventT]:
            versions = self._models.setdefault(name, {})
            if version in versions:
                raise ValueError(f"{name}.v{version} is registered twice")
            versions[version] = model
            model.event_type = f"{name}.v{version}"
            return model

        return register

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: a function turning data of `from_version` into data of the next version."""

        def register(function: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = function
            return function

        return register

    def type_name(self, event: Event) -> str:
        """The wire type of a registered event instance."""
        if not type(event).event_type:
            raise UnknownEventType(f"{type(event).__name__} is not registered")
        return type(event).event_type

    def models(self) -> list[type[Event]]:
        """Every registered model, each version of each event."""
        return [model for versions in self._models.values() for model in versions.values()]

    def latest(self, name: str) -> type[Event]:
        """The newest model of an event."""
        versions = self._models.get(name)
        if not versions:
            raise UnknownEventType(f"no event named {name!r}")
        return versions[max(versions)]

    def decode(self, type_name: str, data: bytes) -> Event:
        """The newest model of this event, upcasting older data step by step."""
        name, version = _split(type_name)
        latest = self.latest(name)
        newest = max(self._models[name])
        if version > newest:
            raise UnknownEventType(f"{type_name} is newer than this reader knows (v{newest})")
        try:
            if version == newest:
                return latest.model_validate_json(data)
            return latest.model_validate(self._upcast(name, version, newest, json.loads(data)))
        except UnknownEventType:
            raise
        # An upcaster meeting data it cannot read (a missing key, a wrong type) fails like a model.
        except (ValidationError, ValueError, LookupError, TypeError) as error:
            raise UndecodableEvent(f"{type_name}: {error.__class__.__name__}") from error

    def _upcast(self, name: str, version: int, newest: int, data: dict[str, Any]) -> dict[str, Any]:
        for step in range(version, newest):
            upcaster = self._upcasters.get((name, step))
            if upcaster is None:
                raise UnknownEventType(f"no upcaster from {name}.v{step} to v{step + 1}")
            data = upcaster(data)
        return data
