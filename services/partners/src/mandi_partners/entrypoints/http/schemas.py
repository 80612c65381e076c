"""Request bodies of the partners API: shapes and sizes here, rules in the domain.

Unknown fields are refused (a misspelt field must not be dropped silently); every string and
list has a bound, so an oversized value is a 422 rather than a row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mandi_partners.domain.partner import (
    Contact,
    Location,
    PartnerChanges,
    PartnerStatus,
    PartnerType,
)
from mandi_partners.domain.tax_ids import TaxId, TaxIdKind, parse_tax_id
from mandi_partners.service_layer.partners import RegisterPartner
from mandi_partners.service_layer.unit_of_work import PartnerFilter

__all__ = ["AmendIn", "DecisionIn", "RegisterIn", "SearchIn", "TradeCheckOut"]

_COUNTRY = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
_OPTIONAL_COUNTRY = Field(default=None, min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
RiskFlag = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Item = TypeVar("Item")
Result = TypeVar("Result")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaxIdIn(_Strict):
    """A tax id as entered; it is validated (format and checksum) by the domain."""

    kind: TaxIdKind
    country: str = _COUNTRY
    value: str = Field(min_length=1, max_length=40)

    def to_domain(self) -> TaxId:
        """The validated tax id."""
        return parse_tax_id(self.kind, self.country, self.value)


class ContactIn(_Strict):
    """A person at the partner."""

    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, min_length=3, max_length=254)
    phone: str | None = Field(default=None, min_length=6, max_length=32)
    is_director: bool = False

    def to_domain(self) -> Contact:
        """The contact, with email and phone normalized."""
        return Contact(self.name, self.email, self.phone, self.is_director)


class LocationIn(_Strict):
    """A place the partner trades from."""

    label: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=1000)
    country: str = _COUNTRY
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    place_id: str | None = Field(default=None, min_length=1, max_length=200)

    def to_domain(self) -> Location:
        """The location."""
        return Location(**self.model_dump())


class RegisterIn(_Strict):
    """A company to onboard."""

    legal_name: str = Field(min_length=1, max_length=300)
    trade_name: str | None = Field(default=None, min_length=1, max_length=300)
    country: str = _COUNTRY
    types: list[PartnerType] = Field(min_length=1, max_length=5)
    tax_ids: list[TaxIdIn] = Field(default_factory=list, max_length=10)
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)
    group_id: UUID | None = None

    def to_command(self) -> RegisterPartner:
        """The use case's command."""
        return RegisterPartner(
            legal_name=self.legal_name,
            trade_name=self.trade_name,
            country=self.country,
            types=frozenset(self.types),
            tax_ids=tuple(tax_id.to_domain() for tax_id in self.tax_ids),
            locations=tuple(location.to_domain() for location in self.locations),
            contacts=tuple(contact.to_domain() for contact in self.contacts),
            group_id=self.group_id,
        )


class AmendIn(_Strict):
    """The fields an update changes; those left out stay as they are."""

    legal_name: str | None = Field(default=None, min_length=1, max_length=300)
    trade_name: str | None = Field(default=None, min_length=1, max_length=300)
    country: str | None = _OPTIONAL_COUNTRY
    types: list[PartnerType] | None = Field(default=None, min_length=1, max_length=5)
    tax_ids: list[TaxIdIn] | None = Field(default=None, max_length=10)
    locations: list[LocationIn] | None = Field(default=None, max_length=50)
    contacts: list[ContactIn] | None = Field(default=None, max_length=50)
    group_id: UUID | None = None
    risk_flags: list[RiskFlag] | None = Field(default=None, max_length=20)

    def to_changes(self) -> PartnerChanges:
        """The domain's description of the update."""
        return PartnerChanges(
            legal_name=self.legal_name,
            country=self.country,
            tax_ids=_tuple(self.tax_ids, TaxIdIn.to_domain),
            trade_name=self.trade_name,
            types=frozenset(self.types) if self.types is not None else None,
            locations=_tuple(self.locations, LocationIn.to_domain),
            contacts=_tuple(self.contacts, ContactIn.to_domain),
            group_id=self.group_id,
            risk_flags=frozenset(self.risk_flags) if self.risk_flags is not None else None,
        )


def _tuple(
    items: list[Item] | None, convert: Callable[[Item], Result]
) -> tuple[Result, ...] | None:
    return None if items is None else tuple(convert(item) for item in items)


class SearchIn(_Strict):
    """Partners holding a tax id, narrowed by the list's filters; paged as the list is."""

    tax_id: TaxIdIn
    status: PartnerStatus | None = None
    type: PartnerType | None = None
    country: str | None = _OPTIONAL_COUNTRY
    group_id: UUID | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)

    def to_filter(self) -> PartnerFilter:
        """The criteria the use case applies."""
        return PartnerFilter(
            status=self.status,
            partner_type=self.type,
            country=self.country.upper() if self.country else None,
            group_id=self.group_id,
            name_prefix=self.q,
            tax_id=self.tax_id.to_domain(),
        )


class DecisionIn(_Strict):
    """A reviewer's note or reason (required to reject, suspend and reinstate)."""

    note: str | None = Field(default=None, min_length=1, max_length=2000)


class TradeCheckOut(BaseModel):
    """Whether two partners may trade with each other."""

    allowed: bool
    reason: str | None
