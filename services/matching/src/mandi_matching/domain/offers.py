"""What matching knows of the book: open requirements and availabilities, the parties behind
them, and the catalog's quality ranges, all as its own read model built from events.

These are values: the read model stores them, candidate queries return them, and scorers read
them. Quantities are in the commodity's base unit; prices per the commodity's price unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from mandi_rules import InsiderLinks

__all__ = [
    "Availability",
    "Candidate",
    "CommodityFacts",
    "Party",
    "Place",
    "QualityRange",
    "Requirement",
    "RiskView",
    "Side",
    "Terms",
    "side_in",
]


class Side(StrEnum):
    """Which side of a trade a partner is on."""

    BUYER = "buyer"
    SELLER = "seller"


def side_in(partner_id: UUID | None, buyer_id: UUID, seller_id: UUID) -> Side | None:
    """The side the partner is on between this buyer and seller; None when neither."""
    if partner_id == buyer_id:
        return Side.BUYER
    if partner_id == seller_id:
        return Side.SELLER
    return None


@dataclass(frozen=True)
class Place:
    """Where goods are delivered (a requirement) or lie (an availability)."""

    latitude: float
    longitude: float
    city: str
    state: str


@dataclass(frozen=True)
class Terms:
    """What an offer says: grade and qualities, quantities, price, place and dates."""

    commodity: str
    grade: str
    quality: Mapping[str, Decimal]
    base_unit: str
    quantity: Decimal
    minimum_lot: Decimal
    price: Decimal  # a requirement's limit; an availability's asking price
    currency: str
    price_unit: str
    place: Place
    delivery_from: date
    delivery_to: date
    valid_until: datetime


@dataclass(frozen=True)
class Requirement:
    """A buyer's open requirement."""

    id: UUID
    partner_id: UUID
    terms: Terms
    version: int


@dataclass(frozen=True)
class Availability:
    """A seller's open availability, with what is still free of it."""

    id: UUID
    partner_id: UUID
    terms: Terms
    free: Decimal
    version: int


@dataclass(frozen=True)
class QualityRange:
    """The catalog's allowed range of one quality parameter of a commodity."""

    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class CommodityFacts:
    """What the catalog says of a commodity that matching uses: quality ranges and units."""

    quality_ranges: Mapping[str, QualityRange]
    unit_sizes: Mapping[str, Decimal]  # each unit's size in the base unit


@dataclass(frozen=True)
class RiskView:
    """The latest risk assessment that concerns a partner: its score (0 to 100, higher is safer)
    and decision (APPROVE, APPROVE_WITH_CONDITIONS, REJECT)."""

    score: int
    decision: str


@dataclass(frozen=True)
class Party:
    """A partner as matching knows it: its insider links, whether it may trade, its risk."""

    partner_id: UUID
    links: InsiderLinks
    may_trade: bool = True
    risk: RiskView | None = None


@dataclass(frozen=True)
class Candidate:
    """One availability considered for one requirement, with all a scorer may read."""

    requirement: Requirement
    availability: Availability
    buyer: Party
    seller: Party
    quality_ranges: Mapping[str, QualityRange] = field(default_factory=dict)
    # How many base units the price is per (a quintal: 100 kg); None while the catalog's units
    # are unknown to matching, and then nothing can be valued.
    price_unit_size: Decimal | None = None
