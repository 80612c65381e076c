"""The availability API: thin routes, each parses, calls one use case and shapes the answer.

Behind the gateway these are `/api/v1/availability/…`. Answers about one resource carry its
ETag; a replayed idempotent answer says so in `Idempotent-Replayed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response, status

from mandi_availability.domain.offers import OfferKind
from mandi_availability.entrypoints.http.deps import DepsDep
from mandi_availability.entrypoints.http.schemas import (
    CommodityChangesIn,
    CommodityIn,
    OfferIn,
    OfferQuery,
    OfferTermsIn,
)
from mandi_availability.service_layer import catalog, offers
from mandi_availability.service_layer.unit_of_work import PageRequest
from mandi_availability.service_layer.views import CommodityView, OfferView
from mandi_db import Answer
from mandi_runtime.pages import encode_cursor
from mandi_runtime.requests import IdempotencyDep, IfMatchDep, PrincipalDep, etag

__all__ = ["router"]

router = APIRouter()
_CATALOG = "catalog"
_CODE = Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")
V = TypeVar("V", CommodityView, OfferView)
# A step of an offer's life a client asks for: publish, withdraw.
Action = Callable[..., Awaitable[Answer[OfferView]]]


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
    return _versioned(answer, response)


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
    return _versioned(answer, response)


def _offer_routes(kind: OfferKind, plural: str) -> None:
    """The routes of one side of the book: /availabilities or /requirements."""
    tags: list[str | Enum] = [plural]
    collection, one = f"/{plural}", f"/{plural}/{{offer_id}}"

    @router.post(
        collection,
        response_model=OfferView,
        status_code=status.HTTP_201_CREATED,
        tags=tags,
        summary=f"Draft {_a(kind)}",
        description=f"Drafts a new {kind.value}; it is on the book once published.",
    )
    async def create(
        body: OfferIn,
        principal: PrincipalDep,
        deps: DepsDep,
        idempotency: IdempotencyDep,
        response: Response,
    ) -> OfferView:
        answer = await offers.create_offer(
            deps, principal, kind, body.to_draft(), partner_id=body.partner_id, key=idempotency
        )
        response.headers["Location"] = f"/api/v1/availability{collection}/{answer.value.id}"
        return _versioned(answer, response)

    @router.get(
        collection,
        response_model=list[OfferView],
        tags=tags,
        summary=f"List {plural}",
        description=f"{plural.capitalize()} on the book, oldest first (and, with `status`, the"
        " caller's own off it); `X-Next-Cursor` names the next page. A point and a radius"
        " (`latitude`, `longitude`, `radius_km`) are given together.",
    )
    async def listing(
        principal: PrincipalDep,
        deps: DepsDep,
        response: Response,
        query: Annotated[OfferQuery, Depends()],
    ) -> list[OfferView]:
        views, following = await offers.list_offers(
            deps, principal, kind, query.to_filter(), PageRequest(query.limit, query.position())
        )
        next_cursor = encode_cursor(following)
        if next_cursor:
            response.headers["X-Next-Cursor"] = next_cursor
        return views

    @router.get(
        one,
        response_model=OfferView,
        tags=tags,
        summary=f"Read {_a(kind)}",
        description=f"One {kind.value}: on the book, or the caller's own.",
    )
    async def read(
        offer_id: UUID, principal: PrincipalDep, deps: DepsDep, response: Response
    ) -> OfferView:
        view = await offers.get_offer(deps, principal, kind, offer_id)
        response.headers["ETag"] = etag(view.version)
        return view

    @router.patch(
        one,
        response_model=OfferView,
        tags=tags,
        summary=f"Change {_a(kind)}",
        description=f"Replaces a draft or published {kind.value}'s terms, naming the version"
        " read in If-Match.",
    )
    async def change(
        *,
        offer_id: UUID,
        body: OfferTermsIn,
        principal: PrincipalDep,
        deps: DepsDep,
        version: IfMatchDep,
        idempotency: IdempotencyDep,
        response: Response,
    ) -> OfferView:
        answer = await offers.change_offer(
            deps, principal, kind, offer_id, body.to_draft(), if_match=version, key=idempotency
        )
        return _versioned(answer, response)

    for action, use_case in (
        ("publish", offers.publish_offer),
        ("withdraw", offers.withdraw_offer),
    ):
        _offer_action(kind, action, f"{one}/{action}", tags, use_case)


def _offer_action(
    kind: OfferKind, action: str, path: str, tags: list[str | Enum], use_case: Action
) -> None:
    @router.post(
        path,
        response_model=OfferView,
        tags=tags,
        summary=f"{action.capitalize()} {_a(kind)}",
        description=(use_case.__doc__ or "").splitlines()[0],
    )
    async def act(
        *,
        offer_id: UUID,
        principal: PrincipalDep,
        deps: DepsDep,
        version: IfMatchDep,
        idempotency: IdempotencyDep,
        response: Response,
    ) -> OfferView:
        answer = await use_case(deps, principal, kind, offer_id, if_match=version, key=idempotency)
        return _versioned(answer, response)


def _a(kind: OfferKind) -> str:
    return f"an {kind.value}" if kind is OfferKind.AVAILABILITY else f"a {kind.value}"


def _versioned(answer: Answer[V], response: Response) -> V:
    """The answer's view, its version as the ETag, and whether it was replayed."""
    response.headers["ETag"] = etag(answer.value.version)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.value


_offer_routes(OfferKind.AVAILABILITY, "availabilities")
_offer_routes(OfferKind.REQUIREMENT, "requirements")
