"""PostgreSQL repositories: the tenant's catalog (row-level security keeps it the tenant's)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from mandi_availability.adapters.tables import commodities, partner_standings
from mandi_availability.domain.catalog import Commodity, QualityParameter
from mandi_availability.domain.quantities import UnitTable
from mandi_availability.domain.standing import PartnerStanding, Standing
from mandi_db import PreparedQuery, SqlRepository, StatementSource
from mandi_errors import Conflict

__all__ = ["SqlCatalog", "SqlStandings"]

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
        return _commodity(rows[0]) if rows else None

    async def all(self) -> list[Commodity]:
        """Every commodity, by code."""
        return [_commodity(row) for row in await self._fetch(_ALL, {})]

    async def add(self, tenant_id: Any, commodity: Commodity, now: datetime) -> None:
        """Adds a new commodity; one the catalog has already is a Conflict."""
        values = {
            **_values(commodity),
            "tenant_id": tenant_id,
            "created_at": now,
            "updated_at": now,
        }
        query = insert(commodities).values(values).on_conflict_do_nothing()
        added = await self._execute(query.returning(commodities.c.code))
        if added.first() is None:
            raise Conflict(f"The catalog has a commodity {commodity.code!r} already.")

    async def save(self, commodity: Commodity, now: datetime) -> None:
        """Stores a changed commodity (its version was checked against the stored one)."""
        values = {**_values(commodity), "updated_at": now}
        query = update(commodities).where(commodities.c.code == commodity.code).values(values)
        await self._execute(query)


def _values(commodity: Commodity) -> dict[str, Any]:
    return {
        "code": commodity.code,
        "name": commodity.name,
        "base_unit": commodity.base_unit,
        "units": {unit: str(size) for unit, size in commodity.units.sizes.items()},
        "price_unit": commodity.price_unit,
        "grades": list(commodity.grades),
        "quality": {
            name: {"unit": p.unit, "min": str(p.minimum), "max": str(p.maximum)}
            for name, p in commodity.quality.items()
        },
        "version": commodity.version,
    }


def _commodity(row: Any) -> Commodity:
    # Stored values were checked when they came in: rebuilt as they were, exactly.
    units = UnitTable(row.base_unit, {unit: Decimal(size) for unit, size in row.units.items()})
    quality = {
        name: QualityParameter(name, bound["unit"], Decimal(bound["min"]), Decimal(bound["max"]))
        for name, bound in row.quality.items()
    }
    return Commodity(
        code=row.code,
        name=row.name,
        units=units,
        price_unit=row.price_unit,
        grades=tuple(row.grades),
        quality=quality,
        version=row.version,
    )


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
