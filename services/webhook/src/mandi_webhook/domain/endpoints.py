"""A partner's webhook endpoints: where its events go, which of them, and what signs them.

An endpoint receives the public event types its filters name (none named: every one). Its
signing secrets rotate with an overlap: the secrets before the new one keep signing beside it
until the overlap ends, so a receiver can move to the new secret without failing a delivery.
A secret that no longer signs is dropped from the endpoint at its next change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from mandi_errors import Conflict, InvalidInput
from mandi_webhooks.endpoint_secret import WebhookSecret

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_RATE_LIMIT",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_OVERLAP",
    "MAX_RATE_LIMIT",
    "MAX_SIGNING_SECRETS",
    "MAX_URL_LENGTH",
    "DisabledCause",
    "Endpoint",
    "EndpointChanges",
    "SigningSecret",
    "checked_url",
    "event_filter",
]

MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
DEFAULT_RATE_LIMIT = 100  # deliveries per second
MAX_RATE_LIMIT = 10_000
DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
# Each signing secret adds a signature to every delivery's header: a few at most.
MAX_SIGNING_SECRETS = 3
_DISABLED_ON_REQUEST = "Disabled on request."
T = TypeVar("T")


class DisabledCause(StrEnum):
    """Who stopped an endpoint's deliveries."""

    REQUESTED = "requested"  # its partner's staff or the operator's
    GONE = "gone"  # the receiver answered a delivery with 410 Gone


def event_filter(requested: Iterable[str], known: Collection[str]) -> frozenset[str]:
    """The event types an endpoint asks for, each one of `known` (none: every type)."""
    chosen = frozenset(requested)
    unknown = sorted(chosen.difference(known))
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
        )
    return chosen


def checked_url(url: str) -> str:
    """The URL, if an endpoint may have it (its reach is the SSRF guard's to judge)."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"A webhook URL has at most {MAX_URL_LENGTH} characters.")
    if "#" in url:
        raise InvalidInput("A webhook URL has no fragment: a receiver never sees it.")
    return url


def _checked_rate_limit(rate_limit: int) -> int:
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise InvalidInput(f"A rate limit is 1 to {MAX_RATE_LIMIT} deliveries per second.")
    return rate_limit


def _checked_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(f"A description has at most {MAX_DESCRIPTION_LENGTH} characters.")
    return description


@dataclass(frozen=True)
class SigningSecret:
    """One secret of an endpoint: it signs from its creation until `expires_at` (None: until
    the next rotation)."""

    id: UUID
    secret: WebhookSecret = field(repr=False)
    created_at: datetime
    expires_at: datetime | None = None

    @classmethod
    def generate(cls, now: datetime) -> SigningSecret:
        """A new random secret, signing from now on."""
        return cls(uuid4(), WebhookSecret.generate(), now)

    def signs_at(self, moment: datetime) -> bool:
        """Whether deliveries made at `moment` carry its signature."""
        return self.expires_at is None or moment < self.expires_at

    def until(self, moment: datetime) -> SigningSecret:
        """The secret signing no later than `moment` (an earlier end stays as it was)."""
        ends = moment if self.expires_at is None else min(self.expires_at, moment)
        return replace(self, expires_at=ends)


@dataclass(frozen=True)
class EndpointChanges:
    """What a change sets; None leaves a field as it is. Event types are checked already. A
    change that sets nothing changes nothing (it is answered with the endpoint as it is)."""

    url: str | None = None
    event_types: frozenset[str] | None = None
    description: str | None = None
    rate_limit: int | None = None
    enabled: bool | None = None
    ordered: bool | None = None

    @property
    def sets_nothing(self) -> bool:
        """Whether every field is left as it is."""
        return all(value is None for value in vars(self).values())


@dataclass(frozen=True)
class Endpoint:
    """Where a partner's events are delivered, which of them, and the secrets that sign them."""

    id: UUID
    partner_id: UUID
    url: str
    event_types: frozenset[str]
    description: str
    rate_limit: int
    secrets: tuple[SigningSecret, ...]
    created_at: datetime
    updated_at: datetime
    disabled_reason: str | None = None
    version: int = 1
    # Strictly in order: one delivery at a time, the next only once the one before has ended
    # (succeeded or dead), so a failing delivery holds back those after it.
    ordered: bool = False

    @classmethod
    def register(
        cls,
        *,
        partner_id: UUID,
        url: str,
        event_types: frozenset[str],
        description: str,
        rate_limit: int,
        secret: SigningSecret,
        ordered: bool = False,
    ) -> Endpoint:
        """A new endpoint of the partner, enabled, signed by `secret`."""
        now = secret.created_at
        return cls(
            id=uuid4(),
            partner_id=partner_id,
            url=checked_url(url),
            event_types=event_types,
            description=_checked_description(description),
            rate_limit=_checked_rate_limit(rate_limit),
            secrets=(secret,),
            created_at=now,
            updated_at=now,
            ordered=ordered,
        )

    @property
    def enabled(self) -> bool:
        """Whether deliveries go to it."""
        return self.disabled_reason is None

    @property
    def host(self) -> str:
        """The URL's host: all that events and logs say of where it is."""
        return urlsplit(self.url).hostname or ""

    def signing_secrets(self, now: datetime) -> tuple[WebhookSecret, ...]:
        """The secrets that sign a delivery made now, the newest first."""
        newest_first = sorted(self.secrets, key=lambda each: each.created_at, reverse=True)
        return tuple(each.secret for each in newest_first if each.signs_at(now))

    def changed(self, changes: EndpointChanges, now: datetime) -> Endpoint:
        """The endpoint with the changes applied, as its next version."""
        reason = self.disabled_reason
        if changes.enabled is not None:
            reason = None if changes.enabled else reason or _DISABLED_ON_REQUEST
        updated = replace(
            self,
            url=self.url if changes.url is None else checked_url(changes.url),
            event_types=_either(changes.event_types, self.event_types),
            description=_checked_description(_either(changes.description, self.description)),
            rate_limit=_checked_rate_limit(_either(changes.rate_limit, self.rate_limit)),
            ordered=_either(changes.ordered, self.ordered),
            disabled_reason=reason,
        )
        return _next_version(updated, now)

    def disabled(self, reason: str | None, now: datetime) -> Endpoint:
        """The endpoint receiving nothing, and why; one disabled already stays as it is."""
        if not self.enabled:
            return self
        return _next_version(replace(self, disabled_reason=reason or _DISABLED_ON_REQUEST), now)

    def rotated(self, new: SigningSecret, overlap: timedelta, now: datetime) -> Endpoint:
        """The endpoint signed by `new`, its secrets before signing beside it for `overlap`."""
        if not timedelta(0) <= overlap <= MAX_OVERLAP:
            raise InvalidInput(f"An overlap lasts 0 to {int(MAX_OVERLAP.total_seconds())} s.")
        before = tuple(each.until(now + overlap) for each in self.secrets)
        kept = tuple(each for each in before if each.signs_at(now))
        if len(kept) + 1 > MAX_SIGNING_SECRETS:
            raise Conflict(
                f"{len(kept)} secrets sign this endpoint already: rotate with no overlap, or once"
                " the oldest has stopped signing."
            )
        return _next_version(replace(self, secrets=(*kept, new)), now)


def _next_version(endpoint: Endpoint, now: datetime) -> Endpoint:
    # A secret that no longer signs goes at the endpoint's next change: nothing keeps it.
    live = tuple(each for each in endpoint.secrets if each.signs_at(now))
    return replace(endpoint, secrets=live, updated_at=now, version=endpoint.version + 1)


def _either(value: T | None, current: T) -> T:
    return current if value is None else value
