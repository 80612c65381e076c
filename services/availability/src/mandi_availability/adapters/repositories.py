"""PostgreSQL repositories: the tenant's catalog (row-level security keeps it the tenant's)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Numeric,
    TextClause,
    and_,
    bindparam,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from mandi_availability.adapters.catalog_documents import commodity_document, commodity_from
from mandi_availability.adapters.tables import (
    commodities,
    offers,
    partner_standings,
    reservations,
)
from mandi_availability.domain.catalog import Commodity
from mandi_availability.domain.offers import (
    Availability,
    DeliveryPlace,
    OfferKind,
    OfferStatus,
    OfferTerms,
    Requirement,
)
from mandi_availability.domain.quantities import Money
from mandi_availability.domain.reservations import Reservation, ReservationStatus, StepKind
from mandi_availability.domain.standing import PartnerStanding, Standing
from mandi_availability.service_layer.unit_of_work import ON_THE_BOOK as ON_THE_BOOK_STATUSES
from mandi_availability.service_layer.unit_of_work import OfferFilter, PageRequest
from mandi_db import PreparedQuery, SqlRepository, StatementSource
from mandi_errors import Conflict

__all__ = ["Offer", "SqlCatalog", "SqlOffers", "SqlReservations", "SqlStandings"]

Offer = Availability | Requirement

_BY_CODE = PreparedQuery(select(commodities).where(commodities.c.code == bindparam("code")))
_ALL = PreparedQuery(select(commodities).order_by(commodities.c.code))
_STANDING = PreparedQuery(
    select(partner_standings).where(partner_standings.c.partner_id == bindparam("partner_id"))
)
_NEW_STANDING = insert(partner_standings).values(
    tenant_id=bindparam("tenant_id"),
    partner_id=bindparam("partner_id"),
    standing=bindparam("standing"),
    version=bindparam("version"),
)
_OFFER = select(offers).where(
    offers.c.id == bindparam("offer_id"), offers.c.kind == bindparam("kind")
)
_OFFER_BY_ID = PreparedQuery(_OFFER)
# What may still expire: drafts, and offers on the book that trades can reserve.
_LIVE_STATUSES = tuple(
    status.value
    for status in (OfferStatus.DRAFT, OfferStatus.PUBLISHED, OfferStatus.PARTIALLY_RESERVED)
)
_OFFER_FOR_UPDATE = PreparedQuery(_OFFER.with_for_update())
# Everything a change may touch: the terms, and what publishing and reserving change.
_OFFER_CHANGEABLE = (
    *("grade", "quality", "quantity", "reserved", "minimum_lot", "price", "currency"),
    *("latitude", "longitude", "state", "city", "label", "delivery_from", "delivery_to"),
    *("valid_until", "status", "version", "updated_at"),
)
_SAVE_OFFER = PreparedQuery(
    update(offers)
    .where(offers.c.id == bindparam("offer_id"), offers.c.version == bindparam("old_version"))
    .values({name: bindparam(f"new_{name}") for name in _OFFER_CHANGEABLE})
    .returning(offers.c.id)
)
_STEP = PreparedQuery(
    select(reservations).where(
        reservations.c.saga_id == bindparam("saga_id"), reservations.c.step == bindparam("step")
    )
)
# What a reserve step holds until it is released: reserved, or confirmed to its trade (each its
# own comparison: a prepared query has no expanding IN).
_HOLDING = or_(
    reservations.c.status == ReservationStatus.RESERVED.value,
    reservations.c.status == ReservationStatus.CONFIRMED.value,
)
_HELD = PreparedQuery(
    select(reservations)
    .where(
        reservations.c.saga_id == bindparam("saga_id"),
        reservations.c.availability_id == bindparam("availability_id"),
        reservations.c.kind == StepKind.RESERVE.value,
        _HOLDING,
    )
    .order_by(reservations.c.created_at)
    .with_for_update()
)
_ADD_RESERVATION = PreparedQuery(
    insert(reservations).values({column.name: bindparam(column.name) for column in reservations.c})
)
_RESERVATION_STATUS = PreparedQuery(
    update(reservations)
    .where(reservations.c.saga_id == bindparam("saga_id"), reservations.c.step == bindparam("step"))
    .values(status=bindparam("new_status"))
)
_PUT_STANDING = PreparedQuery(
    _NEW_STANDING.on_conflict_do_update(
        index_elements=[partner_standings.c.partner_id],
        set_={
            "standing": _NEW_STANDING.excluded.standing,
            "version": _NEW_STANDING.excluded.version,
        },
    )
)


class SqlCatalog(SqlRepository):
    """The commodities of the transaction's tenant."""

    async def get(self, code: str) -> Commodity | None:
        """The commodity of this code, if the catalog has it."""
        rows = await self._fetch(_BY_CODE, {"code": code})
        return commodity_from(dict(rows[0].items())) if rows else None

    async def all(self) -> list[Commodity]:
        """Every commodity, by code."""
        return [commodity_from(dict(row.items())) for row in await self._fetch(_ALL, {})]

    async def add(self, tenant_id: Any, commodity: Commodity, now: datetime) -> None:
        """Adds a new commodity; one the catalog has already is a Conflict."""
        values = {
            **commodity_document(commodity),
            "tenant_id": tenant_id,
            "created_at": now,
            "updated_at": now,
        }
        query = insert(commodities).values(values).on_conflict_do_nothing()
        added = await self._execute(query.returning(commodities.c.code))
        if added.first() is None:
            raise Conflict(f"The catalog has a commodity {commodity.code!r} already.")

    async def save(self, commodity: Commodity, now: datetime) -> None:
        """Stores a changed commodity, if the version it was changed from is still the stored
        one; a change committed meanwhile is a Conflict, never overwritten."""
        values = {**commodity_document(commodity), "updated_at": now}
        query = (
            update(commodities)
            .where(
                commodities.c.code == commodity.code,
                commodities.c.version == commodity.version - 1,
            )
            .values(values)
            .returning(commodities.c.code)
        )
        if (await self._execute(query)).first() is None:
            raise Conflict("The commodity changed meanwhile: read it again.")


class SqlStandings(SqlRepository):
    """What the partners service last said of the tenant's partners."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def get(self, partner_id: UUID) -> PartnerStanding | None:
        """The partner's standing, if an event about it arrived."""
        rows = await self._fetch(_STANDING, {"partner_id": partner_id})
        if not rows:
            return None
        row = rows[0]
        return PartnerStanding(row.partner_id, Standing(row.standing), row.version)

    async def put(self, standing: PartnerStanding) -> None:
        """Records the partner's standing (it replaces what was recorded)."""
        values = {
            "tenant_id": self._tenant_id,
            "partner_id": standing.partner_id,
            "standing": standing.standing.value,
            "version": standing.version,
        }
        await self._fetch(_PUT_STANDING, values)


class SqlOffers(SqlRepository):
    """The tenant's availabilities and requirements."""

    async def get(
        self, kind: OfferKind, offer_id: UUID, *, for_update: bool = False
    ) -> Offer | None:
        """The offer, locked until the transaction ends when it is to be changed."""
        query = _OFFER_FOR_UPDATE if for_update else _OFFER_BY_ID
        rows = await self._fetch(query, {"offer_id": offer_id, "kind": kind.value})
        return _offer(rows[0]) if rows else None

    async def add(self, offer: Offer) -> None:
        """Stores a new offer."""
        values = {**_offer_values(offer), "id": offer.id, "tenant_id": offer.tenant_id}
        values |= {"kind": _kind_of(offer).value, "partner_id": offer.partner_id}
        values |= {"commodity": offer.commodity, "created_at": offer.created_at}
        await self._execute(insert(offers).values(values))

    async def page(self, kind: OfferKind, criteria: OfferFilter, page: PageRequest) -> list[Offer]:
        """Offers matching the filter, oldest first, after the page's cursor."""
        query = select(offers).where(*_offer_conditions(kind, criteria))
        if page.after is not None:
            query = query.where(tuple_(offers.c.created_at, offers.c.id) > tuple_(*page.after))
        query = query.order_by(offers.c.created_at, offers.c.id).limit(page.limit)
        return [_offer(row) for row in await self._execute(query)]

    async def past_validity(self, now: datetime, limit: int) -> list[Offer]:
        """Live offers whose validity has ended, locked; those another sweep holds are skipped."""
        query = (
            select(offers)
            .where(offers.c.status.in_(_LIVE_STATUSES), offers.c.valid_until <= now)
            .order_by(offers.c.valid_until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_offer(row) for row in await self._execute(query)]

    async def save(self, offer: Offer) -> None:
        """Stores a changed offer (its row is locked by `get(..., for_update=True)`)."""
        values = _offer_values(offer)
        changes = {f"new_{name}": values[name] for name in _OFFER_CHANGEABLE}
        # The version read must still be the stored one: a change made meanwhile is a Conflict
        # (retried by a consumer), never overwritten.
        expected = {"offer_id": offer.id, "old_version": offer.version - 1}
        saved = await self._fetch(_SAVE_OFFER, {**expected, **changes})
        if not saved:
            raise Conflict("The offer changed meanwhile: read it again.")


def _kind_of(offer: Offer) -> OfferKind:
    return OfferKind.AVAILABILITY if isinstance(offer, Availability) else OfferKind.REQUIREMENT


def _offer_values(offer: Offer) -> dict[str, Any]:
    terms, place = offer.terms, offer.terms.place
    return {
        "grade": terms.grade,
        "quality": {name: str(value) for name, value in terms.quality.items()},
        "base_unit": terms.base_unit,
        "quantity": terms.quantity,
        "reserved": offer.reserved if isinstance(offer, Availability) else Decimal(0),
        "minimum_lot": terms.minimum_lot,
        "price": terms.price.amount,
        "currency": terms.price.currency,
        "price_unit": terms.price_unit,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "state": place.state,
        "city": place.city,
        "label": place.label,
        "delivery_from": terms.delivery_from,
        "delivery_to": terms.delivery_to,
        "valid_until": terms.valid_until,
        "status": offer.status.value,
        "version": offer.version,
        "updated_at": offer.updated_at,
    }


def _offer(row: Any) -> Offer:
    # Stored terms were checked against the commodity when they came in: rebuilt, not re-checked.
    terms = OfferTerms(
        grade=row.grade,
        quality={name: Decimal(value) for name, value in row.quality.items()},
        base_unit=row.base_unit,
        quantity=row.quantity,
        minimum_lot=row.minimum_lot,
        price=Money(row.currency, row.price),
        price_unit=row.price_unit,
        place=DeliveryPlace(row.latitude, row.longitude, row.state, row.city, row.label),
        delivery_from=row.delivery_from,
        delivery_to=row.delivery_to,
        valid_until=row.valid_until,
    )
    common = {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "partner_id": row.partner_id,
        "commodity": row.commodity,
        "terms": terms,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "status": OfferStatus(row.status),
        "version": row.version,
    }
    if row.kind == OfferKind.AVAILABILITY.value:
        return Availability(**common, reserved=row.reserved)
    return Requirement(**common)


def _offer_conditions(
    kind: OfferKind, criteria: OfferFilter
) -> list[ColumnElement[bool] | TextClause]:
    statuses = [status.value for status in criteria.statuses]
    conditions: list[ColumnElement[bool] | TextClause] = [offers.c.kind == kind.value]
    if criteria.sees_every_partner:
        conditions.append(offers.c.status.in_(statuses))
    else:
        on_the_book = [status.value for status in ON_THE_BOOK_STATUSES if status.value in statuses]
        own = offers.c.partner_id == criteria.own_partner
        conditions.append(
            or_(offers.c.status.in_(on_the_book), and_(own, offers.c.status.in_(statuses)))
        )
    equal = {
        offers.c.commodity: criteria.commodity,
        offers.c.grade: criteria.grade,
        offers.c.partner_id: criteria.partner_id,
        offers.c.state: criteria.state,
        offers.c.city: criteria.city,
    }
    conditions += [column == value for column, value in equal.items() if value is not None]
    if criteria.price_min is not None:
        conditions.append(offers.c.price >= criteria.price_min)
    if criteria.price_max is not None:
        conditions.append(offers.c.price <= criteria.price_max)
    for bounds in criteria.quality:
        measured = offers.c.quality[bounds.parameter].astext.cast(Numeric)
        conditions.append(measured.between(bounds.minimum, bounds.maximum))
    if criteria.near is not None:
        latitude, longitude, metres = criteria.near
        conditions.append(
            text(
                "ST_DWithin(offers.place,"
                " ST_SetSRID(ST_MakePoint(:near_longitude, :near_latitude), 4326)::geography,"
                " :near_metres)"
            ).bindparams(near_latitude=latitude, near_longitude=longitude, near_metres=metres)
        )
    return conditions


class SqlReservations(SqlRepository):
    """The saga steps applied to the tenant's availabilities."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def step(self, saga_id: UUID, step: str) -> Reservation | None:
        """The step, if it was applied before."""
        rows = await self._fetch(_STEP, {"saga_id": saga_id, "step": step})
        return _reservation(rows[0]) if rows else None

    async def held(self, saga_id: UUID, availability_id: UUID) -> list[Reservation]:
        """What the saga's reserve steps hold of the availability (reserved or confirmed), locked
        until the transaction ends."""
        query = {"saga_id": saga_id, "availability_id": availability_id}
        return [_reservation(row) for row in await self._fetch(_HELD, query)]

    async def add(self, reservation: Reservation, now: datetime) -> None:
        """Records an applied step."""
        values = {
            "tenant_id": self._tenant_id,
            "saga_id": reservation.saga_id,
            "step": reservation.step,
            "kind": reservation.kind.value,
            "availability_id": reservation.availability_id,
            "status": reservation.status.value,
            "quantity": reservation.quantity,
            "free": reservation.free,
            "deadline": reservation.deadline,
            "reason": reservation.reason,
            "created_at": now,
        }
        await self._fetch(_ADD_RESERVATION, values)

    async def overdue(self, now: datetime, limit: int) -> list[Reservation]:
        """Unconfirmed reservations past their saga's deadline, locked; those another sweep (or
        a confirm) holds are skipped."""
        query = (
            select(reservations)
            .where(
                reservations.c.status == ReservationStatus.RESERVED.value,
                reservations.c.deadline < now,
            )
            .order_by(reservations.c.deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_reservation(row) for row in await self._execute(query)]

    async def mark(self, reservation: Reservation) -> None:
        """Stores a reservation's new status."""
        names = {"saga_id": reservation.saga_id, "step": reservation.step}
        await self._fetch(_RESERVATION_STATUS, {**names, "new_status": reservation.status.value})


def _reservation(row: Any) -> Reservation:
    return Reservation(
        saga_id=row.saga_id,
        step=row.step,
        kind=StepKind(row.kind),
        availability_id=row.availability_id,
        status=ReservationStatus(row.status),
        quantity=row.quantity,
        free=row.free,
        deadline=row.deadline,
        reason=row.reason,
    )
