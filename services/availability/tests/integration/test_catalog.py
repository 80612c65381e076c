"""The commodity catalog on the real PostgreSQL: operator staff define and change commodities,
each change publishes CatalogChanged in its transaction, and each tenant sees its own."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from mandi_availability.domain.catalog import Commodity, CommodityChanges, QualityParameter
from mandi_availability.domain.quantities import UnitTable
from mandi_availability.service_layer import catalog
from mandi_db import IdempotencyKey
from mandi_errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
)
from mandi_security import Principal, PrincipalType
from mandi_testing import TestDatabase

pytestmark = pytest.mark.integration


def _operator(tenant: Any = None) -> Principal:
    return Principal(tenant or uuid4(), "ops-1", PrincipalType.INTERNAL, None, frozenset({"*"}))


def _cotton() -> Commodity:
    return Commodity(
        code="cotton",
        name="Cotton (lint)",
        units=UnitTable.with_units("kg", {"bale": "170", "candy": "355.6"}),
        price_unit="candy",
        grades=("Shankar-6", "MCU-5"),
        quality={"trash_pct": QualityParameter("trash_pct", "%", Decimal(0), Decimal("6.5"))},
    )


async def _events(database: TestDatabase, tenant: Any) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(database.owner_url)
    try:
        rows = await connection.fetch(
            "SELECT event_type, message_key FROM outbox WHERE tenant_id::text = $1 ORDER BY id",
            str(tenant),
        )
    finally:
        await connection.close()
    return [(row["event_type"], row["message_key"]) for row in rows]


async def test_a_defined_commodity_is_read_back_exactly_and_announced(
    service: Any, database: TestDatabase
) -> None:
    operator = _operator()
    defined = await catalog.define_commodity(service.deps, operator, _cotton())

    shown = await catalog.commodity(service.deps, operator, "cotton")
    assert shown == defined.value
    assert (shown.version, shown.units["candy"], shown.quality["trash_pct"].max) == (
        1,
        Decimal("355.6"),
        Decimal("6.5"),
    )
    assert [item.code for item in await catalog.catalog(service.deps, operator)] == ["cotton"]
    assert await _events(database, operator.tenant_id) == [("mandi.catalog.changed.v1", "cotton")]
    [announced] = await _payloads(database, operator.tenant_id)
    assert announced["quality_ranges"] == {"trash_pct": ["0", "6.5"]}
    assert (announced["units"]["candy"], announced["units"]["kg"]) == ("355.6", "1")


async def _payloads(database: TestDatabase, tenant: Any) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(database.owner_url)
    try:
        rows = await connection.fetch(
            "SELECT convert_from(payload, 'UTF8') AS body FROM outbox"
            " WHERE tenant_id::text = $1 ORDER BY id",
            str(tenant),
        )
    finally:
        await connection.close()
    return [json.loads(row["body"]) for row in rows]


async def test_each_tenant_has_its_own_catalog(service: Any) -> None:
    await catalog.define_commodity(service.deps, _operator(), _cotton())
    elsewhere = _operator()
    assert await catalog.catalog(service.deps, elsewhere) == []
    with pytest.raises(NotFound):
        await catalog.commodity(service.deps, elsewhere, "cotton")
    await catalog.define_commodity(service.deps, elsewhere, _cotton())  # its own cotton


async def test_a_commodity_is_defined_once(service: Any) -> None:
    operator = _operator()
    await catalog.define_commodity(service.deps, operator, _cotton())
    with pytest.raises(Conflict, match="has a commodity 'cotton' already"):
        await catalog.define_commodity(service.deps, operator, _cotton())


async def test_a_retried_definition_answers_as_the_first_and_announces_once(
    service: Any, database: TestDatabase
) -> None:
    operator = _operator()
    key = IdempotencyKey(operator.principal_id, "define-cotton", "fingerprint-1")
    first = await catalog.define_commodity(service.deps, operator, _cotton(), key)
    again = await catalog.define_commodity(service.deps, operator, _cotton(), key)
    assert (again.value, again.replayed) == (first.value, True)
    assert len(await _events(database, operator.tenant_id)) == 1


async def test_a_change_names_the_version_it_read(service: Any, database: TestDatabase) -> None:
    operator = _operator()
    await catalog.define_commodity(service.deps, operator, _cotton())
    changes = CommodityChanges(own_units={"bale": Decimal(170), "candy": Decimal(356)})
    with pytest.raises(PreconditionRequired):
        await catalog.change_commodity(service.deps, operator, "cotton", changes, if_match=None)
    with pytest.raises(PreconditionFailed, match="at version 1, not 7"):
        await catalog.change_commodity(service.deps, operator, "cotton", changes, if_match=7)

    changed = await catalog.change_commodity(service.deps, operator, "cotton", changes, if_match=1)
    assert (changed.value.version, changed.value.units["candy"]) == (2, Decimal(356))
    assert changed.value.grades == ["Shankar-6", "MCU-5"]  # not sent: kept
    assert len(await _events(database, operator.tenant_id)) == 2


async def test_only_operator_staff_change_the_catalog(service: Any) -> None:
    seller = Principal(uuid4(), "key-1", PrincipalType.EXTERNAL, uuid4(), frozenset({"*"}))
    with pytest.raises(PermissionDenied, match="operator's staff define commodities"):
        await catalog.define_commodity(service.deps, seller, _cotton())
    assert await catalog.catalog(service.deps, seller) == []  # but reads it


async def test_two_changes_from_one_version_never_both_land(service: Any) -> None:
    operator = _operator()
    await catalog.define_commodity(service.deps, operator, _cotton())
    now = datetime.now(UTC)
    async with service.deps.uow(operator.tenant_id) as late:
        read_late = await late.catalog.get("cotton")  # read before the other change commits
        async with service.deps.uow(operator.tenant_id) as first:
            read_first = await first.catalog.get("cotton")
            await first.catalog.save(replace(read_first, name="Cotton A", version=2), now)
            await first.commit()
        with pytest.raises(Conflict, match="changed meanwhile"):
            await late.catalog.save(replace(read_late, name="Cotton B", version=2), now)
    assert (await catalog.commodity(service.deps, operator, "cotton")).name == "Cotton A"
