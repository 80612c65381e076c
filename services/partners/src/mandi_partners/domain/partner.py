"""A partner: a company trading on a marketplace, and the life of its onboarding.

    pending ──submit──▶ under_review ──approve──▶ approved ──suspend──▶ suspended
       ▲                     │                        ▲                     │
       └──────revise─── rejected ◀──reject──┘         └──────reinstate──────┘

Only a partner under review is verified or decided on; approval needs a passed verification or,
when the verifier could not answer, a reviewer's note saying how it was checked by hand.

A tax id another partner already holds may still be kept on an application as *contested*, when
the partner's own staff entered it (they are not told another company holds it). A contested
application carries the risk flag `tax_id_contested` and is not approved until its tax ids are
corrected: one company per tax id holds for every approved partner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from mandi_errors import Conflict, InvalidInput
from mandi_partners.domain.tax_ids import TaxId, TaxIdKind

__all__ = [
    "TAX_ID_CONTESTED",
    "Contact",
    "Location",
    "Partner",
    "PartnerChanges",
    "PartnerStatus",
    "PartnerType",
    "Verification",
]

_MAX_NAME = 300
_MAX_REASON = 2000
_MAX_ADDRESS = 1000
_MAX_EMAIL = 254  # RFC 5321
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")  # E.164: at most 15 digits
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

TAX_ID_CONTESTED = "tax_id_contested"
"""The risk flag of a partner with a tax id another partner holds; kept by the partner itself."""


class PartnerType(StrEnum):
    """What a partner does on the marketplace (one may do several)."""

    BUYER = "buyer"
    SELLER = "seller"
    TRADER = "trader"
    BROKER = "broker"
    TRANSPORTER = "transporter"


class PartnerStatus(StrEnum):
    """Where a partner's onboarding stands."""

    PENDING = "pending"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Verification(StrEnum):
    """What the automatic KYC and tax-id check said."""

    NOT_STARTED = "not_started"
    PASSED = "passed"
    FAILED = "failed"
    PARKED = "parked"  # the verifier could not answer: a reviewer checks by hand


@dataclass(frozen=True)
class Location:
    """An address the partner trades from, with where it is on the map."""

    label: str
    address: str
    country: str
    latitude: float | None = None
    longitude: float | None = None
    place_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _required_text(self.label, "A location's label"))
        object.__setattr__(
            self, "address", _required_text(self.address, "An address", _MAX_ADDRESS)
        )
        object.__setattr__(self, "country", _country(self.country))
        if (self.latitude is None) != (self.longitude is None):
            raise InvalidInput("A location has both a latitude and a longitude, or neither.")
        if self.latitude is not None and not -90 <= self.latitude <= 90:  # noqa: PLR2004
            raise InvalidInput("A latitude is between -90 and 90.")
        if self.longitude is not None and not -180 <= self.longitude <= 180:  # noqa: PLR2004
            raise InvalidInput("A longitude is between -180 and 180.")


@dataclass(frozen=True)
class Contact:
    """A person at the partner; directors count for the insider-trading rule."""

    name: str
    email: str | None = None
    phone: str | None = None
    is_director: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _required_text(self.name, "A contact's name"))
        if self.email is not None:
            object.__setattr__(self, "email", normalize_email(self.email))
        if self.phone is not None:
            object.__setattr__(self, "phone", normalize_phone(self.phone))


def normalize_email(email: str) -> str:
    """The form an email is compared and indexed in (never echoed in the error)."""
    # Measured as written: lower-casing may lengthen a few characters (İ becomes two).
    stripped = email.strip()
    if not _EMAIL.match(stripped) or len(stripped) > _MAX_EMAIL:
        raise InvalidInput("A contact's email address is not valid.")
    return stripped.lower()


def normalize_phone(phone: str) -> str:
    """The form a phone number is compared and indexed in: digits, with a leading + if given."""
    normalized = _PHONE_SEPARATORS.sub("", phone)
    if not _PHONE.match(normalized):
        raise InvalidInput("A contact's phone number is 6 to 15 digits, with an optional +.")
    return normalized


def _country(value: str) -> str:
    country = value.strip().upper()
    if not _COUNTRY.match(country):
        raise InvalidInput("A country is its ISO 3166-1 alpha-2 code.")
    return country


@dataclass(frozen=True)
class PartnerChanges:
    """What one update changes (None: left as it is). Identity changes only before submission."""

    legal_name: str | None = None
    country: str | None = None
    tax_ids: tuple[TaxId, ...] | None = None
    trade_name: str | None = None
    types: frozenset[PartnerType] | None = None
    locations: tuple[Location, ...] | None = None
    contacts: tuple[Contact, ...] | None = None
    group_id: UUID | None = None
    risk_flags: frozenset[str] | None = None

    @property
    def identity_changes(self) -> bool:
        """Whether the legal name, country or tax ids change: what verification checked."""
        return any(value is not None for value in (self.legal_name, self.country, self.tax_ids))

    @property
    def is_empty(self) -> bool:
        """Whether nothing changes."""
        return self == PartnerChanges()


def _required_text(value: str, what: str, limit: int = _MAX_NAME) -> str:
    text = value.strip()
    if not 0 < len(text) <= limit:
        raise InvalidInput(f"{what} is 1 to {limit} characters.")
    return text


@dataclass
class Partner:
    """A company on the marketplace and its onboarding state."""

    id: UUID
    tenant_id: UUID
    legal_name: str
    country: str
    types: frozenset[PartnerType]
    trade_name: str | None = None
    tax_ids: tuple[TaxId, ...] = ()
    locations: tuple[Location, ...] = ()
    contacts: tuple[Contact, ...] = ()
    group_id: UUID | None = None
    status: PartnerStatus = PartnerStatus.PENDING
    verification: Verification = Verification.NOT_STARTED
    review_notes: list[str] = field(default_factory=list)
    risk_flags: frozenset[str] = frozenset()
    version: int = 1
    decided_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    contested_tax_ids: frozenset[TaxId] = frozenset()  # of its tax ids, those another holds

    def __post_init__(self) -> None:
        self.legal_name = _required_text(self.legal_name, "A legal name")
        self.country = _country(self.country)
        if self.trade_name is not None:
            self.trade_name = _required_text(self.trade_name, "A trade name")
        if not self.types:
            raise InvalidInput(
                "A partner is at least one of buyer, seller, trader, broker, transporter."
            )
        _check_tax_ids(self.tax_ids, self.country)
        self.contest(self.contested_tax_ids)

    def amend(self, changes: PartnerChanges) -> None:
        """Applies an update. What verification checks is frozen once the partner is submitted."""
        if changes.is_empty:
            raise InvalidInput("The update changes nothing.")
        if changes.identity_changes and self.status is not PartnerStatus.PENDING:
            raise Conflict(
                f"A {self.status.value} partner's legal name, country and tax ids are fixed"
                " (a rejected application is revised first)."
            )
        updated = replace(
            self,
            **{name: value for name, value in changes.__dict__.items() if value is not None},
        )  # runs the checks of a new partner on the result
        self.__dict__.update(updated.__dict__)
        self._changed()

    def contest(self, held_elsewhere: frozenset[TaxId]) -> None:
        """Records which of its tax ids another partner holds, and flags it for reviewers.

        Not a change of its own (the version stays): it is what the amendment that brought the
        tax ids found, and the partner's staff must not tell it from an uncontested one.
        """
        self.contested_tax_ids = held_elsewhere & frozenset(self.tax_ids)
        flags = self.risk_flags - {TAX_ID_CONTESTED}
        self.risk_flags = (flags | {TAX_ID_CONTESTED}) if self.contested_tax_ids else flags

    def submit(self) -> None:
        """Sends the application for verification and review."""
        self._require(PartnerStatus.PENDING, "submitted")
        if not self.tax_ids:
            raise InvalidInput("An application needs at least one tax id.")
        self.status, self.verification = PartnerStatus.UNDER_REVIEW, Verification.NOT_STARTED
        self._changed()

    def record_verification(self, outcome: Verification, note: str | None = None) -> None:
        """What the verifier said (or that it could not answer, and the application waits)."""
        self._require(PartnerStatus.UNDER_REVIEW, "verified")
        self.verification = outcome
        if note:
            self.review_notes.append(note)
        self._changed()

    def approve(self, moment: datetime, note: str | None = None) -> None:
        """Lets the partner trade. A parked verification needs the reviewer's own check, noted."""
        self._require(PartnerStatus.UNDER_REVIEW, "approved")
        if self.contested_tax_ids:
            raise Conflict(
                "Another partner holds a tax id of this application: it is approved once its"
                " tax ids are corrected (reject it, revise it and amend its tax ids)."
            )
        if self.verification is Verification.FAILED:
            raise Conflict("The verification failed: the application can only be rejected.")
        if self.verification is not Verification.PASSED and not (note and note.strip()):
            raise InvalidInput("Without a passed verification, say how it was checked by hand.")
        self._decide(PartnerStatus.APPROVED, moment, note)

    def reject(self, moment: datetime, reason: str) -> None:
        """Turns the application down, with the reason the applicant is told."""
        self._require(PartnerStatus.UNDER_REVIEW, "rejected")
        self._decide(
            PartnerStatus.REJECTED, moment, _required_text(reason, "A reason", _MAX_REASON)
        )

    def revise(self) -> None:
        """Reopens a rejected application for changes and a new submission."""
        self._require(PartnerStatus.REJECTED, "revised")
        self.status, self.verification = PartnerStatus.PENDING, Verification.NOT_STARTED
        self._changed()

    def suspend(self, moment: datetime, reason: str) -> None:
        """Stops an approved partner from trading."""
        self._require(PartnerStatus.APPROVED, "suspended")
        self._decide(
            PartnerStatus.SUSPENDED, moment, _required_text(reason, "A reason", _MAX_REASON)
        )

    def reinstate(self, moment: datetime, note: str) -> None:
        """Lets a suspended partner trade again."""
        self._require(PartnerStatus.SUSPENDED, "reinstated")
        self._decide(PartnerStatus.APPROVED, moment, _required_text(note, "A note", _MAX_REASON))

    @property
    def may_trade(self) -> bool:
        """Only approved partners take part in matching and trades."""
        return self.status is PartnerStatus.APPROVED

    def _require(self, status: PartnerStatus, action: str) -> None:
        if self.status is not status:
            raise Conflict(f"A {self.status.value} partner cannot be {action}.")

    def _decide(self, status: PartnerStatus, moment: datetime, note: str | None) -> None:
        self.status, self.decided_at = status, moment
        if note:
            self.review_notes.append(note)
        self._changed()

    def _changed(self) -> None:
        self.version += 1


def _check_tax_ids(tax_ids: tuple[TaxId, ...], country: str) -> None:
    kinds = [tax_id.kind for tax_id in tax_ids if tax_id.kind is not TaxIdKind.OTHER]
    if len(kinds) != len(set(kinds)):
        raise InvalidInput("A partner has one tax id of each kind.")
    pans = {tax_id.value for tax_id in tax_ids if tax_id.kind is TaxIdKind.PAN}
    for gstin in (tax_id for tax_id in tax_ids if tax_id.kind is TaxIdKind.GSTIN):
        if pans and gstin.embedded_pan not in pans:
            raise InvalidInput("The GSTIN belongs to another PAN than the partner's.")
    if any(tax_id.country != country for tax_id in tax_ids if tax_id.kind is not TaxIdKind.OTHER):
        raise InvalidInput("A partner's PAN, GSTIN or VAT number is of its own country.")
