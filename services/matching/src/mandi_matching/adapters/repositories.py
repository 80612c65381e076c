"""Matching's repositories on PostgreSQL, in the unit of work's transaction.

Read models are upserts guarded by version: a stored version later than the event's wins, so a
late or repeated event changes nothing. Candidates are found with the partial indexes on open
offers: the GiST index on the place for the radius, the b-tree on tenant, kind and commodity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, insert, literal_column, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import JSONB

from mandi_db import SqlRepository, StatementSource
from mandi_errors import Conflict
from mandi_matching.adapters.tables import offers, proposals, trades
from mandi_matching.domain.offers import (
    Availability,
    CommodityFacts,
    Party,
    Place,
    QualityRange,
    Requirement,
    RiskView,
    Side,
    Terms,
)
from mandi_matching.domain.proposals import FactorPoints, Proposal, ProposalStatus
from mandi_matching.domain.trades import Trade, TradeStatus
from mandi_rules import InsiderLinks

__all__ = [
    "SqlBook",
    "SqlCatalogFacts",
    "SqlPartnerDirectory",
    "SqlProposals",
    "SqlRiskViews",
    "SqlTrades",
]

_PUT_OFFER = text("""
    INSERT INTO offers (id, tenant_id, kind, partner_id, commodity, grade, quality, base_unit,
                        quantity, free, minimum_lot, price, currency, price_unit, latitude,
                        longitude, city, state, delivery_from, delivery_to, valid_until, open,
                        version)
    VALUES (:id, :tenant_id, :kind, :partner_id, :commodity, :grade, :quality, :base_unit,
            :quantity, :free, :minimum_lot, :price, :currency, :price_unit, :latitude,
            :longitude, :city, :state, :delivery_from, :delivery_to, :valid_until, :open,
            :version)
    ON CONFLICT (id) DO UPDATE SET
        grade = excluded.grade, quality = excluded.quality, quantity = excluded.quantity,
        free = excluded.free, minimum_lot = excluded.minimum_lot, price = excluded.price,
        currency = excluded.currency, price_unit = excluded.price_unit,
        latitude = excluded.latitude, longitude = excluded.longitude, city = excluded.city,
        state = excluded.state, delivery_from = excluded.delivery_from,
        delivery_to = excluded.delivery_to, valid_until = excluded.valid_until,
        open = excluded.open, version = excluded.version
    WHERE offers.version < excluded.version
    RETURNING id
""").bindparams(bindparam("quality", type_=JSONB))
_CLOSE = text("""
    UPDATE offers SET open = false, version = :version
    WHERE id = :id AND version < :version AND open
    RETURNING id
""")
_SET_FREE = text("""
    UPDATE offers SET free = :free, version = :version
    WHERE id = :id AND version < :version
    RETURNING id
""")
_OPEN_OFFER = select(offers).where(
    offers.c.id == bindparam("id"), offers.c.kind == bindparam("kind"), offers.c.open
)
_POINT = "ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326)::geography"
# Candidates: open offers of the other side, same commodity and currency, still valid, with
# something free, whose delivery window meets this one's, within the radius; nearest first.
_NEAR = (
    select(offers)
    .where(
        offers.c.tenant_id == bindparam("tenant_id"),
        offers.c.kind == bindparam("kind"),
        offers.c.commodity == bindparam("commodity"),
        offers.c.open,
        offers.c.currency == bindparam("currency"),
        offers.c.valid_until > bindparam("now"),
        offers.c.free > 0,
        offers.c.delivery_from <= bindparam("delivery_to"),
        offers.c.delivery_to >= bindparam("delivery_from"),
        offers.c.partner_id != bindparam("partner_id"),
        text(f"ST_DWithin(place, {_POINT}, :metres)"),
    )
    .order_by(text(f"place <-> {_POINT}"), offers.c.id)
    .limit(bindparam("limit"))
)
_REQUIREMENTS_OF = select(offers.c.id).where(
    offers.c.tenant_id == bindparam("tenant_id"),
    offers.c.kind == literal_column("'requirement'"),
    offers.c.commodity == bindparam("commodity"),
    offers.c.open,
)
_COMMODITY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_OFFERS_OF = select(offers.c.id).where(
    offers.c.tenant_id == bindparam("tenant_id"),
    offers.c.partner_id == bindparam("partner_id"),
    offers.c.open,
)


class SqlBook(SqlRepository):
    """The open book as matching keeps it."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def put_requirement(self, requirement: Requirement, *, on_the_book: bool) -> bool:
        """Stores the requirement unless a later version is stored; whether it was."""
        row = _offer_row(self._tenant_id, "requirement", requirement.id, requirement.partner_id)
        values = {**row, **_terms_row(requirement.terms), "free": requirement.terms.quantity}
        return await self._put({**values, "open": on_the_book, "version": requirement.version})

    async def put_availability(self, availability: Availability, *, on_the_book: bool) -> bool:
        """Stores the availability unless a later version is stored; whether it was."""
        row = _offer_row(self._tenant_id, "availability", availability.id, availability.partner_id)
        values = {**row, **_terms_row(availability.terms), "free": availability.free}
        return await self._put({**values, "open": on_the_book, "version": availability.version})

    async def close(self, offer_id: UUID, version: int) -> bool:
        """Takes an offer off the book as of `version`; whether that was news."""
        result = await self._execute(_CLOSE, {"id": offer_id, "version": version})
        return result.first() is not None

    async def set_free(self, availability_id: UUID, free: Decimal, version: int) -> bool:
        """What is free of the availability as of `version`; whether that was news."""
        values = {"id": availability_id, "free": free, "version": version}
        return (await self._execute(_SET_FREE, values)).first() is not None

    async def requirement(self, requirement_id: UUID) -> Requirement | None:
        """An open requirement."""
        row = (
            await self._execute(_OPEN_OFFER, {"id": requirement_id, "kind": "requirement"})
        ).first()
        return _requirement(row) if row else None

    async def availability(self, availability_id: UUID) -> Availability | None:
        """An open availability."""
        values = {"id": availability_id, "kind": "availability"}
        row = (await self._execute(_OPEN_OFFER, values)).first()
        return _availability(row) if row else None

    async def availabilities_near(
        self, requirement: Requirement, radius_km: float, limit: int, now: datetime
    ) -> list[Availability]:
        """Open availabilities that could serve the requirement, nearest first."""
        rows = await self._near("availability", requirement, radius_km, limit, now)
        return [_availability(row) for row in rows]

    async def requirements_near(
        self, availability: Availability, radius_km: float, limit: int, now: datetime
    ) -> list[Requirement]:
        """Open requirements the availability could serve, nearest first."""
        rows = await self._near("requirement", availability, radius_km, limit, now)
        return [_requirement(row) for row in rows]

    async def open_offers_of(self, partner_id: UUID) -> list[UUID]:
        """The partner's open offers' ids."""
        values = {"tenant_id": self._tenant_id, "partner_id": partner_id}
        return list((await self._execute(_OFFERS_OF, values)).scalars())

    async def open_requirements_of(self, commodity: str) -> list[UUID]:
        """The open requirements' ids of the commodity."""
        values = {"tenant_id": self._tenant_id, "commodity": commodity}
        return list((await self._execute(_REQUIREMENTS_OF, values)).scalars())

    async def match_alone(self, commodity: str) -> None:
        """A transaction lock on the tenant's commodity: matching of one commodity takes turns."""
        await self._execute(_COMMODITY_LOCK, {"key": f"{self._tenant_id}:{commodity}"})

    async def _put(self, values: Mapping[str, Any]) -> bool:
        return (await self._execute(_PUT_OFFER, values)).first() is not None

    async def _near(
        self,
        kind: str,
        offer: Requirement | Availability,
        radius_km: float,
        limit: int,
        now: datetime,
    ) -> list[Any]:
        """Open offers of `kind` that could trade with `offer`, nearest first."""
        terms = offer.terms
        values = {
            "tenant_id": self._tenant_id,
            "kind": kind,
            "commodity": terms.commodity,
            "currency": terms.currency,
            "now": now,
            "delivery_from": terms.delivery_from,
            "delivery_to": terms.delivery_to,
            "partner_id": offer.partner_id,
            "latitude": terms.place.latitude,
            "longitude": terms.place.longitude,
            "metres": radius_km * 1000,
            "limit": limit,
        }
        return list(await self._execute(_NEAR, values))


def _offer_row(tenant_id: UUID, kind: str, offer_id: UUID, partner_id: UUID) -> dict[str, Any]:
    return {"id": offer_id, "tenant_id": tenant_id, "kind": kind, "partner_id": partner_id}


def _terms_row(terms: Terms) -> dict[str, Any]:
    return {
        "commodity": terms.commodity,
        "grade": terms.grade,
        "quality": {name: str(value) for name, value in terms.quality.items()},
        "base_unit": terms.base_unit,
        "quantity": terms.quantity,
        "minimum_lot": terms.minimum_lot,
        "price": terms.price,
        "currency": terms.currency,
        "price_unit": terms.price_unit,
        "latitude": terms.place.latitude,
        "longitude": terms.place.longitude,
        "city": terms.place.city,
        "state": terms.place.state,
        "delivery_from": terms.delivery_from,
        "delivery_to": terms.delivery_to,
        "valid_until": terms.valid_until,
    }


def _terms(row: Any) -> Terms:
    return Terms(
        commodity=row.commodity,
        grade=row.grade,
        quality={name: Decimal(value) for name, value in row.quality.items()},
        base_unit=row.base_unit,
        quantity=row.quantity,
        minimum_lot=row.minimum_lot,
        price=row.price,
        currency=row.currency,
        price_unit=row.price_unit,
        place=Place(row.latitude, row.longitude, row.city, row.state),
        delivery_from=row.delivery_from,
        delivery_to=row.delivery_to,
        valid_until=row.valid_until,
    )


def _requirement(row: Any) -> Requirement:
    return Requirement(row.id, row.partner_id, _terms(row), row.version)


def _availability(row: Any) -> Availability:
    return Availability(row.id, row.partner_id, _terms(row), row.free, row.version)


_PUT_LINKS = text("""
    INSERT INTO partners (tenant_id, partner_id, may_trade, group_id, director_fingerprints,
                          contact_fingerprints, version)
    VALUES (:tenant_id, :partner_id, false, :group_id, :directors, :contacts, :version)
    ON CONFLICT (partner_id) DO UPDATE SET
        group_id = excluded.group_id, director_fingerprints = excluded.director_fingerprints,
        contact_fingerprints = excluded.contact_fingerprints,
        version = greatest(partners.version, excluded.version)
    WHERE partners.version < excluded.version
""")
_PUT_STANDING = text("""
    INSERT INTO partners (tenant_id, partner_id, may_trade, group_id, director_fingerprints,
                          contact_fingerprints, version)
    VALUES (:tenant_id, :partner_id, :may_trade, NULL, '{}', '{}', :version)
    ON CONFLICT (partner_id) DO UPDATE SET
        may_trade = excluded.may_trade, version = excluded.version
    WHERE partners.version < excluded.version
    RETURNING partner_id
""")
_PARTIES = text("""
    SELECT partner_id, may_trade, group_id, director_fingerprints, contact_fingerprints
    FROM partners WHERE partner_id = ANY(:ids)
""")


class SqlPartnerDirectory(SqlRepository):
    """Partners as matching knows them."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def put_links(self, links: InsiderLinks, version: int) -> None:
        """A partner's group and people as of `version`."""
        values = {
            "tenant_id": self._tenant_id,
            "partner_id": links.partner_id,
            "group_id": links.group_id,
            "directors": sorted(links.director_fingerprints),
            "contacts": sorted(links.contact_fingerprints),
            "version": version,
        }
        await self._execute(_PUT_LINKS, values)

    async def put_standing(self, partner_id: UUID, *, may_trade: bool, version: int) -> bool:
        """Whether the partner may trade as of `version`; whether that was news."""
        values = {
            "tenant_id": self._tenant_id,
            "partner_id": partner_id,
            "may_trade": may_trade,
            "version": version,
        }
        return (await self._execute(_PUT_STANDING, values)).first() is not None

    async def parties(self, partner_ids: Iterable[UUID]) -> dict[UUID, Party]:
        """The partners known; an unknown one is missing from the answer."""
        rows = await self._execute(_PARTIES, {"ids": list(partner_ids)})
        return {
            row.partner_id: Party(
                row.partner_id,
                InsiderLinks(
                    row.partner_id,
                    row.group_id,
                    frozenset(row.director_fingerprints),
                    frozenset(row.contact_fingerprints),
                ),
                row.may_trade,
            )
            for row in rows
        }


_PUT_RISK = text("""
    INSERT INTO risk_views (tenant_id, buyer_id, seller_id, score, decision, assessed_at)
    VALUES (:tenant_id, :buyer_id, :seller_id, :score, :decision, :assessed_at)
    ON CONFLICT (buyer_id, seller_id) DO UPDATE SET
        score = excluded.score, decision = excluded.decision, assessed_at = excluded.assessed_at
    WHERE risk_views.assessed_at <= excluded.assessed_at
""")
_RISK_OF_BUYER = text("""
    SELECT seller_id AS other, score, decision FROM risk_views
    WHERE buyer_id = :partner_id AND seller_id = ANY(:others)
""")
_RISK_OF_SELLER = text("""
    SELECT buyer_id AS other, score, decision FROM risk_views
    WHERE seller_id = :partner_id AND buyer_id = ANY(:others)
""")


class SqlRiskViews(SqlRepository):
    """The latest assessment of each buyer and seller pair."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def put(
        self, buyer_id: UUID, seller_id: UUID, view: RiskView, assessed_at: datetime
    ) -> None:
        """Keeps the assessment unless a later one is kept."""
        values = {
            "tenant_id": self._tenant_id,
            "buyer_id": buyer_id,
            "seller_id": seller_id,
            "score": view.score,
            "decision": view.decision,
            "assessed_at": assessed_at,
        }
        await self._execute(_PUT_RISK, values)

    async def of_buyer(self, buyer_id: UUID, seller_ids: Iterable[UUID]) -> dict[UUID, RiskView]:
        """By seller, the latest assessment of the buyer with each."""
        return await self._views(_RISK_OF_BUYER, buyer_id, seller_ids)

    async def of_seller(self, seller_id: UUID, buyer_ids: Iterable[UUID]) -> dict[UUID, RiskView]:
        """By buyer, the latest assessment of each with the seller."""
        return await self._views(_RISK_OF_SELLER, seller_id, buyer_ids)

    async def _views(
        self, query: Any, partner_id: UUID, others: Iterable[UUID]
    ) -> dict[UUID, RiskView]:
        rows = await self._execute(query, {"partner_id": partner_id, "others": list(others)})
        return {row.other: RiskView(row.score, row.decision) for row in rows}


_PUT_CATALOG = text("""
    INSERT INTO catalog (tenant_id, commodity, version, quality_ranges)
    VALUES (:tenant_id, :commodity, :version, :facts)
    ON CONFLICT (tenant_id, commodity) DO UPDATE SET
        version = excluded.version, quality_ranges = excluded.quality_ranges
    WHERE catalog.version < excluded.version
    RETURNING commodity
""").bindparams(bindparam("facts", type_=JSONB))
_CATALOG = text(
    "SELECT quality_ranges FROM catalog WHERE tenant_id = :tenant_id AND commodity = :commodity"
)


class SqlCatalogFacts(SqlRepository):
    """What the catalog says of each commodity: quality ranges and unit sizes."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def put(self, commodity: str, version: int, facts: CommodityFacts) -> bool:
        """Stores the commodity's facts unless a later version is stored; whether it was."""
        stored = {
            "ranges": {
                name: [str(r.minimum), str(r.maximum)] for name, r in facts.quality_ranges.items()
            },
            "units": {unit: str(size) for unit, size in facts.unit_sizes.items()},
        }
        values = {"tenant_id": self._tenant_id, "commodity": commodity, "version": version}
        return (await self._execute(_PUT_CATALOG, {**values, "facts": stored})).first() is not None

    async def commodity(self, commodity: str) -> CommodityFacts | None:
        """The commodity's facts, if matching has seen its catalog entry."""
        values = {"tenant_id": self._tenant_id, "commodity": commodity}
        stored = (await self._execute(_CATALOG, values)).scalar()
        if stored is None:
            return None
        ranges = {
            name: QualityRange(Decimal(low), Decimal(high))
            for name, (low, high) in stored.get("ranges", {}).items()
        }
        units = {unit: Decimal(size) for unit, size in stored.get("units", {}).items()}
        return CommodityFacts(quality_ranges=ranges, unit_sizes=units)


_ADD_PROPOSAL = insert(proposals)
_SAVE_PROPOSAL = text("""
    UPDATE proposals SET status = :status, saga_id = :saga_id, reason = :reason,
                         updated_at = :updated_at, version = :version
    WHERE id = :id AND version = :version - 1
    RETURNING id
""")
_GET_PROPOSAL = select(proposals).where(proposals.c.id == bindparam("id"))
_GET_PROPOSAL_LOCKED = _GET_PROPOSAL.with_for_update()
# A constant, not a parameter: the partial indexes on open proposals then fit every plan.
_OPEN = proposals.c.status == literal_column("'open'")
_OPEN_OF_REQUIREMENT = (
    select(proposals)
    .where(proposals.c.requirement_id == bindparam("id"), _OPEN)
    .order_by(proposals.c.id)
    .with_for_update()
)
_OPEN_OF_AVAILABILITY = (
    select(proposals)
    .where(proposals.c.availability_id == bindparam("id"), _OPEN)
    .order_by(proposals.c.id)
    .with_for_update()
)
_BY_SAGA = select(proposals).where(proposals.c.saga_id == bindparam("saga_id")).with_for_update()


class SqlProposals(SqlRepository):
    """Every proposal made."""

    async def add(self, proposal: Proposal) -> None:
        """Stores a new proposal."""
        await self._execute(_ADD_PROPOSAL, _proposal_row(proposal))

    async def get(self, proposal_id: UUID, *, for_update: bool = False) -> Proposal | None:
        """A proposal, locked for the transaction when asked."""
        query = _GET_PROPOSAL_LOCKED if for_update else _GET_PROPOSAL
        row = (await self._execute(query, {"id": proposal_id})).first()
        return _proposal(row) if row else None

    async def save(self, proposal: Proposal) -> None:
        """Stores a new version; Conflict if another was stored since it was read."""
        values = {
            "id": proposal.id,
            "status": proposal.status.value,
            "saga_id": proposal.saga_id,
            "reason": proposal.reason,
            "updated_at": proposal.updated_at,
            "version": proposal.version,
        }
        if (await self._execute(_SAVE_PROPOSAL, values)).first() is None:
            raise Conflict("The proposal changed meanwhile; read it again.")

    async def open_of_requirement(self, requirement_id: UUID) -> list[Proposal]:
        """The requirement's open proposals, locked."""
        rows = await self._execute(_OPEN_OF_REQUIREMENT, {"id": requirement_id})
        return [_proposal(row) for row in rows]

    async def open_of_availability(self, availability_id: UUID) -> list[Proposal]:
        """The availability's open proposals, locked."""
        rows = await self._execute(_OPEN_OF_AVAILABILITY, {"id": availability_id})
        return [_proposal(row) for row in rows]

    async def by_saga(self, saga_id: UUID) -> Proposal | None:
        """The proposal a trade saga was started for, locked."""
        row = (await self._execute(_BY_SAGA, {"saga_id": saga_id})).first()
        return _proposal(row) if row else None

    async def page(
        self,
        *,
        partner_id: UUID | None,
        side: Side | None,
        requirement_id: UUID | None,
        statuses: tuple[str, ...],
        limit: int,
        after: tuple[Decimal, UUID] | None,
    ) -> list[Proposal]:
        """Proposals best first, filtered, after the (score, id) last seen."""
        table = proposals.c
        query = select(proposals).where(table.status.in_(statuses))
        if partner_id is not None:
            sides = {Side.BUYER: table.buyer_id, Side.SELLER: table.seller_id}
            chosen = [sides[side]] if side else list(sides.values())
            query = query.where(or_(*(column == partner_id for column in chosen)))
        if requirement_id is not None:
            query = query.where(table.requirement_id == requirement_id)
        if after is not None:
            query = query.where(tuple_(table.score, table.id) < tuple_(*after))
        query = query.order_by(table.score.desc(), table.id.desc()).limit(limit)
        return [_proposal(row) for row in await self._execute(query)]


def _proposal_row(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "tenant_id": proposal.tenant_id,
        "requirement_id": proposal.requirement_id,
        "availability_id": proposal.availability_id,
        "buyer_id": proposal.buyer_id,
        "seller_id": proposal.seller_id,
        "status": proposal.status.value,
        "score": proposal.score,
        "commodity": proposal.commodity,
        "grade": proposal.grade,
        "quantity": proposal.quantity,
        "base_unit": proposal.base_unit,
        "price": proposal.price,
        "currency": proposal.currency,
        "price_unit": proposal.price_unit,
        "value": proposal.value,
        "scorer_name": proposal.scorer_name,
        "scorer_version": proposal.scorer_version,
        "breakdown": [
            {
                "name": factor.name,
                "points": str(factor.points),
                "maximum": str(factor.maximum),
                "rationale": factor.rationale,
            }
            for factor in proposal.breakdown
        ],
        "rationale": proposal.rationale,
        "inputs": json.loads(json.dumps(dict(proposal.inputs), default=str)),
        "saga_id": proposal.saga_id,
        "reason": proposal.reason,
        "created_at": proposal.created_at,
        "updated_at": proposal.updated_at,
        "version": proposal.version,
    }


def _proposal(row: Any) -> Proposal:
    return Proposal(
        id=row.id,
        tenant_id=row.tenant_id,
        requirement_id=row.requirement_id,
        availability_id=row.availability_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        commodity=row.commodity,
        grade=row.grade,
        quantity=row.quantity,
        base_unit=row.base_unit,
        price=row.price,
        currency=row.currency,
        price_unit=row.price_unit,
        value=row.value,
        score=row.score,
        scorer_name=row.scorer_name,
        scorer_version=row.scorer_version,
        breakdown=tuple(
            FactorPoints(f["name"], Decimal(f["points"]), Decimal(f["maximum"]), f["rationale"])
            for f in row.breakdown
        ),
        rationale=row.rationale,
        inputs=row.inputs,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=ProposalStatus(row.status),
        saga_id=row.saga_id,
        reason=row.reason,
        version=row.version,
    )


_ADD_TRADE = insert(trades)
_SAVE_TRADE = text("""
    UPDATE trades SET status = :status, cancel_saga_id = :cancel_saga_id,
                      cancel_reason = :cancel_reason, updated_at = :updated_at, version = :version
    WHERE id = :id AND version = :version - 1
    RETURNING id
""")
_GET_TRADE = select(trades).where(trades.c.id == bindparam("id"))
_GET_TRADE_LOCKED = _GET_TRADE.with_for_update()
_BY_CANCELLATION = (
    select(trades).where(trades.c.cancel_saga_id == bindparam("saga_id")).with_for_update()
)


class SqlTrades(SqlRepository):
    """Every trade."""

    async def add(self, trade: Trade) -> None:
        """Stores a new trade."""
        await self._execute(_ADD_TRADE, _trade_row(trade))

    async def get(self, trade_id: UUID, *, for_update: bool = False) -> Trade | None:
        """A trade, locked for the transaction when asked."""
        query = _GET_TRADE_LOCKED if for_update else _GET_TRADE
        row = (await self._execute(query, {"id": trade_id})).first()
        return _trade(row) if row else None

    async def save(self, trade: Trade) -> None:
        """Stores a new version; Conflict if another was stored since it was read."""
        values = {
            "id": trade.id,
            "status": trade.status.value,
            "cancel_saga_id": trade.cancel_saga_id,
            "cancel_reason": trade.cancel_reason,
            "updated_at": trade.updated_at,
            "version": trade.version,
        }
        if (await self._execute(_SAVE_TRADE, values)).first() is None:
            raise Conflict("The trade changed meanwhile; read it again.")

    async def by_cancellation(self, saga_id: UUID) -> Trade | None:
        """The trade a cancellation saga cancels, locked."""
        row = (await self._execute(_BY_CANCELLATION, {"saga_id": saga_id})).first()
        return _trade(row) if row else None

    async def page(
        self, *, partner_id: UUID | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Trade]:
        """Trades newest first, of the partner (either side) when named."""
        query = select(trades)
        if partner_id is not None:
            query = query.where(
                or_(trades.c.buyer_id == partner_id, trades.c.seller_id == partner_id)
            )
        if after is not None:
            query = query.where(tuple_(trades.c.created_at, trades.c.id) < tuple_(*after))
        query = query.order_by(trades.c.created_at.desc(), trades.c.id.desc()).limit(limit)
        return [_trade(row) for row in await self._execute(query)]


def _trade_row(trade: Trade) -> dict[str, Any]:
    return {
        "id": trade.id,
        "tenant_id": trade.tenant_id,
        "saga_id": trade.saga_id,
        "proposal_id": trade.proposal_id,
        "requirement_id": trade.requirement_id,
        "availability_id": trade.availability_id,
        "buyer_id": trade.buyer_id,
        "seller_id": trade.seller_id,
        "commodity": trade.commodity,
        "grade": trade.grade,
        "quantity": trade.quantity,
        "unit": trade.unit,
        "price": trade.price,
        "currency": trade.currency,
        "price_unit": trade.price_unit,
        "value": trade.value,
        "delivery_from": trade.delivery_from,
        "delivery_to": trade.delivery_to,
        "delivery_city": trade.delivery_city,
        "delivery_state": trade.delivery_state,
        "status": trade.status.value,
        "cancel_saga_id": trade.cancel_saga_id,
        "cancel_reason": trade.cancel_reason,
        "created_at": trade.created_at,
        "updated_at": trade.updated_at,
        "version": trade.version,
    }


def _trade(row: Any) -> Trade:
    delivery_from: date = row.delivery_from
    return Trade(
        id=row.id,
        tenant_id=row.tenant_id,
        saga_id=row.saga_id,
        proposal_id=row.proposal_id,
        requirement_id=row.requirement_id,
        availability_id=row.availability_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        commodity=row.commodity,
        grade=row.grade,
        quantity=row.quantity,
        unit=row.unit,
        price=row.price,
        currency=row.currency,
        price_unit=row.price_unit,
        value=row.value,
        delivery_from=delivery_from,
        delivery_to=row.delivery_to,
        delivery_city=row.delivery_city,
        delivery_state=row.delivery_state,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=TradeStatus(row.status),
        cancel_saga_id=row.cancel_saga_id,
        cancel_reason=row.cancel_reason,
        version=row.version,
    )
