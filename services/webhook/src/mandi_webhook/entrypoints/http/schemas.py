"""Request bodies of the webhook API: shapes and sizes here, rules in the domain.

Unknown fields are refused; every string and list has a bound, so an oversized value is a 422
rather than a row. Numbers are JSON numbers (true and false are not).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from mandi_runtime.text import no_controls, single_line
from mandi_webhook.domain.endpoints import (
    DEFAULT_OVERLAP,
    DEFAULT_RATE_LIMIT,
    MAX_DESCRIPTION_LENGTH,
    MAX_OVERLAP,
    MAX_RATE_LIMIT,
    MAX_URL_LENGTH,
    EndpointChanges,
)
from mandi_webhook.service_layer.endpoints import PUBLIC_EVENT_TYPES, Registration

__all__ = ["DisableIn", "EndpointChangesIn", "EndpointIn", "RecoveryIn", "RotationIn"]

# The examples are valid as they stand: an address, so that nothing needs resolving to accept it.
_EXAMPLE_URL = "https://93.184.216.34/mandi/webhooks"
_EXAMPLE_PARTNER = "8d9f3c52-7b1e-4a4b-9c3e-2f1d5a6b7c8d"


def _whole_number(value: object) -> object:
    """JSON has one number type: 60.0 is the integer 60, but true and "60" are not numbers.
    (A field validator, not an annotation: so the document keeps the field's bounds.)"""
    if isinstance(value, bool | str):
        raise ValueError("a whole number is expected")  # noqa: TRY004 - pydantic's 422
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A public event type's name, e.g. `trade.confirmed`: the document lists those that exist (the
# domain refuses any other all the same).
EventType = Annotated[
    str,
    StringConstraints(max_length=80, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"),
    Field(json_schema_extra={"enum": sorted(PUBLIC_EVENT_TYPES)}),
]
EventTypes = Annotated[
    list[EventType],
    Field(
        max_length=len(PUBLIC_EVENT_TYPES),
        description="The public event types delivered; none: every type.",
        examples=[["trade.confirmed", "trade.settled"]],
    ),
]
Url = Annotated[
    str,
    no_controls(MAX_URL_LENGTH),
    Field(
        description=(
            "Where deliveries are POSTed: https, on a public address (a host name must resolve"
            " to public addresses only)."
        ),
        examples=[_EXAMPLE_URL],
    ),
]
Description = Annotated[str, no_controls(MAX_DESCRIPTION_LENGTH, min_length=0)]
RateLimit = Annotated[
    int,
    Field(ge=1, le=MAX_RATE_LIMIT, description="Deliveries per second, at most."),
]
_MAX_OVERLAP_SECONDS = int(MAX_OVERLAP.total_seconds())


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointIn(_Body):
    """An endpoint to register, for the partner it names: a partner's staff name their own,
    operator staff the one they act for."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "url": _EXAMPLE_URL,
                    "event_types": ["trade.confirmed", "trade.settled"],
                    "description": "Our ERP",
                    "rate_limit": 100,
                    "partner_id": _EXAMPLE_PARTNER,
                }
            ]
        },
    )

    url: Url
    event_types: EventTypes = []
    description: Description = ""
    rate_limit: RateLimit = DEFAULT_RATE_LIMIT
    ordered: Annotated[
        bool, Field(description="One delivery at a time, strictly in the events' order.")
    ] = False
    partner_id: UUID

    _whole = field_validator("rate_limit", mode="before")(_whole_number)

    def to_registration(self) -> Registration:
        """The registration the use case checks."""
        return Registration(
            url=self.url,
            event_types=frozenset(self.event_types),
            description=self.description,
            rate_limit=self.rate_limit,
            ordered=self.ordered,
        )


class EndpointChangesIn(_Body):
    """What a change sets; a field left out (or null) stays as it is."""

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    rate_limit: RateLimit | None = None
    enabled: bool | None = None
    ordered: bool | None = None

    _whole = field_validator("rate_limit", mode="before")(_whole_number)

    def to_changes(self) -> EndpointChanges:
        """The changes; InvalidInput when they set nothing."""
        return EndpointChanges(
            url=self.url,
            event_types=None if self.event_types is None else frozenset(self.event_types),
            description=self.description,
            rate_limit=self.rate_limit,
            enabled=self.enabled,
            ordered=self.ordered,
        )


class DisableIn(_Body):
    """Why an endpoint is disabled (optional)."""

    reason: Annotated[str, single_line(500)] | None = None


class RotationIn(_Body):
    """How long the secrets before the new one keep signing beside it (0: they stop now)."""

    overlap_seconds: Annotated[int, Field(ge=0, le=_MAX_OVERLAP_SECONDS)] = int(
        DEFAULT_OVERLAP.total_seconds()
    )

    _whole = field_validator("overlap_seconds", mode="before")(_whole_number)

    @property
    def overlap(self) -> timedelta:
        """The overlap."""
        return timedelta(seconds=self.overlap_seconds)


class RecoveryIn(_Body):
    """From when the endpoint's dead deliveries are sent again (a moment in the past, with
    its time zone)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"since": "2026-01-01T00:00:00Z"}]},
    )

    since: AwareDatetime
