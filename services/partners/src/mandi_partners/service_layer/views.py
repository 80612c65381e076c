"""What a principal is shown of a partner: everything for operator staff, less for the partner.

A partner's own staff see its contacts and the last characters of its tax ids, never the review
notes, risk flags, group links or whether another partner holds one of its tax ids. Views are
plain JSON-able models, so the answer to an idempotent request can be stored and replayed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from mandi_partners.domain.access import sees_internal_fields
from mandi_partners.domain.partner import Partner
from mandi_partners.domain.tax_ids import TaxId
from mandi_security.principal import Principal

__all__ = [
    "ContactView",
    "InternalPartnerView",
    "LocationView",
    "PartnerView",
    "StaffView",
    "TaxIdView",
    "partner_view",
    "view_type",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StaffView(_View):
    """A user acting for a partner (created in auth), with the roles auth gave it."""

    user_id: UUID
    roles: list[str]
    linked_at: datetime


class TaxIdView(_View):
    """A tax id; `value` is there for operator staff only."""

    kind: str
    country: str
    masked: str


class InternalTaxIdView(TaxIdView):
    """A tax id in full, and whether another partner holds it (the application cannot pass)."""

    value: str
    contested: bool = False  # answers stored before contested tax ids existed lack it


class ContactView(_View):
    """A person at the partner."""

    name: str
    email: str | None
    phone: str | None
    is_director: bool


class LocationView(_View):
    """A place the partner trades from."""

    label: str
    address: str
    country: str
    latitude: float | None
    longitude: float | None
    place_id: str | None


class PartnerView(_View):
    """A partner as its own staff see it."""

    id: UUID
    legal_name: str
    trade_name: str | None
    country: str
    types: list[str]
    status: str
    verification: str
    tax_ids: Sequence[TaxIdView]
    contacts: list[ContactView]
    locations: list[LocationView]
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    decided_at: datetime | None


class InternalPartnerView(PartnerView):
    """A partner as the operator's staff see it: with whole tax ids and what reviewers noted."""

    tax_ids: Sequence[InternalTaxIdView]  # a richer item in the same field
    group_id: UUID | None
    review_notes: list[str]
    risk_flags: list[str]


def view_type(principal: Principal) -> type[PartnerView]:
    """The view this principal is shown."""
    return InternalPartnerView if sees_internal_fields(principal) else PartnerView


def _tax_id(tax_id: TaxId, partner: Partner, *, internal: bool) -> TaxIdView:
    shown = {"kind": tax_id.kind.value, "country": tax_id.country, "masked": tax_id.masked}
    if not internal:
        return TaxIdView(**shown)
    contested = tax_id in partner.contested_tax_ids
    return InternalTaxIdView(**shown, value=tax_id.value, contested=contested)


def partner_view(partner: Partner, principal: Principal) -> PartnerView:
    """The partner as this principal may see it."""
    internal = sees_internal_fields(principal)
    shown = {
        "id": partner.id,
        "legal_name": partner.legal_name,
        "trade_name": partner.trade_name,
        "country": partner.country,
        "types": sorted(kind.value for kind in partner.types),
        "status": partner.status.value,
        "verification": partner.verification.value,
        "tax_ids": [_tax_id(tax_id, partner, internal=internal) for tax_id in partner.tax_ids],
        "contacts": [ContactView(**contact.__dict__) for contact in partner.contacts],
        "locations": [LocationView(**location.__dict__) for location in partner.locations],
        "version": partner.version,
        "created_at": partner.created_at,
        "updated_at": partner.updated_at,
        "decided_at": partner.decided_at,
    }
    if not internal:
        return PartnerView(**shown)
    return InternalPartnerView(
        **shown,
        group_id=partner.group_id,
        review_notes=list(partner.review_notes),
        risk_flags=sorted(partner.risk_flags),
    )
