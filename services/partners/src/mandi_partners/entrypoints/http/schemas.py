"""Request bodies of the partners API: shapes and sizes here, rules in the domain.

Unknown fields are refused (a misspelt field must not be dropped silently); every string and
list has a bound, so an oversized value is a 422 rather than a row. What the domain checks of a
single field is declared here too (patterns, no control characters), so the OpenAPI document is
the contract; what spans fields or needs arithmetic (a GSTIN's check character, one tax id of
each kind, a GSTIN of the partner's own PAN, coordinates in pairs) is said in descriptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

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
from mandi_runtime.pages import Cursor
from mandi_runtime.text import (
    email_address,
    multi_line,
    no_controls,
    phone_number,
    single_line,
    visible_ascii,
)

__all__ = [
    "TEXT_PATTERN",
    "AmendIn",
    "DecisionIn",
    "RegisterIn",
    "SearchIn",
    "TaxIdIn",
    "TradeCheckOut",
]

_COUNTRY = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
_OPTIONAL_COUNTRY = Field(default=None, min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
RiskFlag = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Name = Annotated[str, single_line(300)]
TEXT_PATTERN = no_controls(100).pattern  # a query's text: what a person types, no control
_PAN = r"[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]"
_GST_STATE = r"(?:0[1-9]|[12][0-9]|3[0-8]|97|99)"
# A field of an update that is not sent: accepted as None, never written in the schema.
_Absent = SkipJsonSchema[None]
Item = TypeVar("Item")
Result = TypeVar("Result")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TaxIdIn(_Strict):
    kind: TaxIdKind
    country: str
    value: str

    def to_domain(self) -> TaxId:
        """The validated tax id."""
        return parse_tax_id(self.kind, self.country, self.value)


class PanIn(_TaxIdIn):
    """India's PAN: 5 letters (the 4th the holder type), 4 digits, a letter."""

    kind: Literal[TaxIdKind.PAN]
    country: Literal["IN"]
    value: Annotated[str, StringConstraints(pattern=f"^{_PAN}$")]


class GstinIn(_TaxIdIn):
    """India's GSTIN: a state code, the holder's PAN, an entity number, Z, and a mod-36 check
    character over the first fourteen (a mistyped GSTIN is refused, 422)."""

    kind: Literal[TaxIdKind.GSTIN]
    country: Literal["IN"]
    value: Annotated[str, StringConstraints(pattern=f"^{_GST_STATE}{_PAN}[1-9A-Z]Z[0-9A-Z]$")]


class VatIn(_TaxIdIn):
    """An EU VAT number, starting with its country's code (a German one is DE, nine digits and
    a correct check digit)."""

    kind: Literal[TaxIdKind.VAT]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    value: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z0-9./]{2,27}[A-Z0-9]$")]


class OtherTaxIdIn(_TaxIdIn):
    """Another country's tax id: 5 to 30 upper-case letters, digits, spaces, dots, slashes or
    dashes, starting and ending with a letter or digit."""

    kind: Literal[TaxIdKind.OTHER]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    value: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9 ./-]{3,28}[A-Z0-9]$")]


TaxIdIn = Annotated[PanIn | GstinIn | VatIn | OtherTaxIdIn, Field(discriminator="kind")]


class ContactIn(_Strict):
    """A person at the partner."""

    name: Name
    email: Annotated[str, email_address()] | None = None
    phone: Annotated[str, phone_number()] | None = None
    is_director: bool = False

    def to_domain(self) -> Contact:
        """The contact, with email and phone normalized."""
        return Contact(self.name, self.email, self.phone, self.is_director)


class LocationIn(_Strict):
    """A place the partner trades from; its latitude and longitude are given together or not
    at all."""

    label: Annotated[str, single_line(100)]
    address: Annotated[str, multi_line(1000)]
    country: str = _COUNTRY
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    place_id: Annotated[str, visible_ascii(200)] | None = None

    def to_domain(self) -> Location:
        """The location."""
        return Location(**self.model_dump())


class RegisterIn(_Strict):
    """A company to onboard. Its tax ids are one of each kind (any number of `other`), of its
    own country, and a GSTIN is of the partner's PAN when both are given."""

    legal_name: Name
    trade_name: Name | None = None
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


def _some_field_sent(schema: dict[str, Any]) -> None:
    # An update sends at least one field, each with a value: its schema has no null default.
    schema["minProperties"] = 1
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class AmendIn(_Strict):
    """The fields an update changes, at least one; those left out stay as they are (a field is
    left out, never sent as null)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_some_field_sent)

    legal_name: Name | _Absent = None
    trade_name: Name | _Absent = None
    country: Country | _Absent = None
    types: Annotated[list[PartnerType], Field(min_length=1, max_length=5)] | _Absent = None
    tax_ids: Annotated[list[TaxIdIn], Field(max_length=10)] | _Absent = None
    locations: Annotated[list[LocationIn], Field(max_length=50)] | _Absent = None
    contacts: Annotated[list[ContactIn], Field(max_length=50)] | _Absent = None
    group_id: UUID | _Absent = None
    risk_flags: Annotated[list[RiskFlag], Field(max_length=20)] | _Absent = None

    @model_validator(mode="before")
    @classmethod
    def _changes_something(cls, data: Any) -> Any:
        if isinstance(data, dict) and (not data or None in data.values()):
            raise ValueError("An update names at least one field, and no field as null.")
        return data

    def to_changes(self) -> PartnerChanges:
        """The domain's description of the update."""
        return PartnerChanges(
            legal_name=self.legal_name,
            country=self.country,
            tax_ids=_tuple(self.tax_ids, _TaxIdIn.to_domain),
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
    q: Annotated[str, no_controls(100)] | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Cursor | None = None

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

    note: Annotated[str, multi_line(2000)] | None = None


class TradeCheckOut(BaseModel):
    """Whether two partners may trade with each other."""

    allowed: bool
    reason: str | None
