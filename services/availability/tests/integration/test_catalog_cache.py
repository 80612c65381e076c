"""The catalog cache in the real Redis: a change made by one replica is seen on the next read
by another; the catalog's own event clears what a writer could not; Redis away is a miss."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from mandi_availability.adapters.catalog_cache import RedisCatalogCache
from mandi_availability.config import Settings
from mandi_availability.domain.catalog import Commodity, CommodityChanges
from mandi_availability.domain.quantities import UnitTable
from mandi_availability.entrypoints.service import DEFINITION
from mandi_availability.service_layer import catalog
from mandi_contracts import EVENTS, CatalogChanged
from mandi_messaging import events_topic
from mandi_runtime import running
from mandi_runtime.redis import redis_of
from mandi_security import Principal, PrincipalType
from mandi_testing.messaging import DeadLetterRecorder, envelope_of, publish_envelope

pytestmark = pytest.mark.integration


def _cotton(name: str = "Cotton") -> Commodity:
    units = UnitTable.with_units("kg", {"bale": "170"})
    return Commodity(code="cotton", name=name, units=units, price_unit="bale", grades=("A",))


def _operator() -> Principal:
    return Principal(uuid4(), "ops", PrincipalType.INTERNAL, None, frozenset({"*"}))


def _key(operator: Principal) -> str:
    return f"mandi:availability:catalog:{operator.tenant_id}:cotton"


async def test_a_change_by_one_replica_is_read_by_another_at_once(settings: Settings) -> None:
    operator = _operator()
    async with (
        running(DEFINITION, settings, background=False) as first,
        running(DEFINITION, settings, background=False) as second,
    ):
        await catalog.define_commodity(first.deps, operator, _cotton())
        assert (await catalog.commodity(first.deps, operator, "cotton")).version == 1
        redis = redis_of(settings)
        try:
            assert await redis.exists(_key(operator)) == 1  # read once, cached for every replica
            changes = CommodityChanges(name="Cotton (lint)")
            await catalog.change_commodity(second.deps, operator, "cotton", changes, if_match=1)
            assert await redis.exists(_key(operator)) == 0
        finally:
            await redis.aclose()
        shown = await catalog.commodity(first.deps, operator, "cotton")
        assert (shown.version, shown.name) == (2, "Cotton (lint)")


async def test_the_catalogs_own_event_clears_what_a_writer_could_not(
    service: Any, delivering: Any
) -> None:
    operator = _operator()
    await catalog.define_commodity(service.deps, operator, _cotton())
    stale = replace(_cotton("Stale"), version=1)
    await service.deps.catalog_cache.put(operator.tenant_id, stale)  # as if never cleared
    assert (await catalog.commodity(service.deps, operator, "cotton")).name == "Stale"

    changed = CatalogChanged(
        tenant_id=operator.tenant_id, commodity="cotton", version=1, changed_by="ops"
    )
    envelope = envelope_of(changed, subject="cotton", registry=EVENTS, tenant_id=operator.tenant_id)
    async with delivering(DeadLetterRecorder("availability")) as broker:
        await publish_envelope(broker, events_topic("availability"), envelope)
    assert (await catalog.commodity(service.deps, operator, "cotton")).name == "Cotton"


async def test_with_redis_away_the_catalog_is_read_from_the_database(service: Any) -> None:
    operator = _operator()
    await catalog.define_commodity(service.deps, operator, _cotton())
    away = Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)  # nothing listens there
    try:
        deps = replace(service.deps, catalog_cache=RedisCatalogCache(away, ttl_seconds=60))
        shown = await catalog.commodity(deps, operator, "cotton")
    finally:
        await away.aclose()
    assert (shown.code, shown.units["bale"]) == ("cotton", Decimal(170))
