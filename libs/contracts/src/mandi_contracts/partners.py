"""Events of the partners service, on `mandi.partners.events`.

They never carry personal or tax data in clear: ids, statuses, masked tax ids, and the
fingerprints (truncated keyed hashes) of a partner's people, which is what other services need to
apply the insider-trading rule: partners of one group, or sharing a director or a contact (by
email or phone), may not trade with each other.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_contracts.registry import EVENTS
from mandi_messaging.registry import Event

__all__ = [
    "PARTNER_EVENTS",
    "MaskedTaxId",
    "PartnerApproved",
    "PartnerRegistered",
    "PartnerReinstated",
    "PartnerRejected",
    "PartnerSubmitted",
    "PartnerSuspended",
    "PartnerUpdated",
    "PartnerVerified",
]


class MaskedTaxId(BaseModel):
    """A tax id as events show it: its kind, country and last characters."""

    model_config = ConfigDict(frozen=True)

    kind: str
    country: str
    masked: str


class _PartnerEvent(Event):
    tenant_id: UUID
    partner_id: UUID
    version: int


class _InsiderLinks(_PartnerEvent):
    group_id: UUID | None
    director_fingerprints: list[str]
    contact_fingerprints: list[str]


@EVENTS.event("mandi.partner.registered", 1)
class PartnerRegistered(_InsiderLinks):
    """A company was registered on the marketplace; its application is pending."""

    partner_types: list[str]
    country: str
    tax_ids: list[MaskedTaxId]
    registered_by: str


@EVENTS.event("mandi.partner.updated", 1)
class PartnerUpdated(_InsiderLinks):
    """A partner's details changed; the links are the whole current set."""

    changed_fields: list[str]
    updated_by: str


@EVENTS.event("mandi.partner.submitted", 1)
class PartnerSubmitted(_PartnerEvent):
    """The application was sent for verification and review."""

    submitted_by: str


@EVENTS.event("mandi.partner.verified", 1)
class PartnerVerified(_PartnerEvent):
    """The verifier answered (passed or failed), or could not and the application is parked."""

    outcome: str


@EVENTS.event("mandi.partner.approved", 1)
class PartnerApproved(_PartnerEvent):
    """The partner may trade from now on."""

    approved_by: str


@EVENTS.event("mandi.partner.rejected", 1)
class PartnerRejected(_PartnerEvent):
    """The application was turned down (the reason stays in the partners service)."""

    rejected_by: str


@EVENTS.event("mandi.partner.suspended", 1)
class PartnerSuspended(_PartnerEvent):
    """The partner may no longer trade."""

    suspended_by: str


@EVENTS.event("mandi.partner.reinstated", 1)
class PartnerReinstated(_PartnerEvent):
    """A suspended partner may trade again."""

    reinstated_by: str


# Every event the partners service publishes, on mandi.partners.events.
PARTNER_EVENTS: tuple[type[Event], ...] = (
    PartnerRegistered,
    PartnerUpdated,
    PartnerSubmitted,
    PartnerVerified,
    PartnerApproved,
    PartnerRejected,
    PartnerSuspended,
    PartnerReinstated,
)
