"""The availability API: thin routes, each parses, calls one use case and shapes the answer.

Behind the gateway these are `/api/v1/availability/…`. Answers about one resource carry its
ETag; a replayed idempotent answer says so in `Idempotent-Replayed`.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Response, status

from mandi_availability.entrypoints.http.deps import DepsDep
from mandi_availability.entrypoints.http.schemas import CommodityChangesIn, CommodityIn
from mandi_availability.service_layer import catalog
from mandi_availability.service_layer.views import CommodityView
from mandi_db import Answer
from mandi_runtime.requests import IdempotencyDep, IfMatchDep, PrincipalDep, etag

__all__ = ["router"]

router = APIRouter()
_CATALOG = "catalog"
_CODE = Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")


def _answer(answer: Answer[CommodityView], response: Response) -> CommodityView:
    response.headers["ETag"] = etag(answer.value.version)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.value


@router.get("/catalog/commodities", response_model=list[CommodityView], tags=[_CATALOG])
async def list_commodities(principal: PrincipalDep, deps: DepsDep) -> list[CommodityView]:
    """The tenant's commodity catalog, by code."""
    return await catalog.catalog(deps, principal)


@router.post(
    "/catalog/commodities",
    response_model=CommodityView,
    status_code=status.HTTP_201_CREATED,
    tags=[_CATALOG],
)
async def define_commodity(
    body: CommodityIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> CommodityView:
    """Adds a commodity to the catalog (operator staff)."""
    answer = await catalog.define_commodity(deps, principal, body.to_commodity(), idempotency)
    response.headers["Location"] = f"/api/v1/availability/catalog/commodities/{body.code}"
    return _answer(answer, response)


@router.get("/catalog/commodities/{code}", response_model=CommodityView, tags=[_CATALOG])
async def get_commodity(
    principal: PrincipalDep, deps: DepsDep, response: Response, code: str = _CODE
) -> CommodityView:
    """One commodity of the catalog."""
    view = await catalog.commodity(deps, principal, code)
    response.headers["ETag"] = etag(view.version)
    return view


@router.patch("/catalog/commodities/{code}", response_model=CommodityView, tags=[_CATALOG])
async def change_commodity(
    *,
    body: CommodityChangesIn,
    principal: PrincipalDep,
    deps: DepsDep,
    version: IfMatchDep,
    idempotency: IdempotencyDep,
    response: Response,
    code: str = _CODE,
) -> CommodityView:
    """Changes a commodity (operator staff), naming the version read in If-Match."""
    changes = body.to_changes()
    answer = await catalog.change_commodity(
        deps, principal, code, changes, if_match=version, key=idempotency
    )
    return _answer(answer, response)
