"""The partners API: thin routes, each parses, calls one use case and shapes the answer.

Behind the gateway these are `/api/v1/partners/…`. Changes answer with the partner's ETag;
a replayed idempotent answer says so in `Idempotent-Replayed`.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from mandi_errors import BadRequest
from mandi_partners.domain.partner import PartnerStatus, PartnerType
from mandi_partners.entrypoints.http.deps import DepsDep
from mandi_partners.entrypoints.http.schemas import (
    TEXT_PATTERN,
    AmendIn,
    DecisionIn,
    RegisterIn,
    SearchIn,
    TradeCheckOut,
)
from mandi_partners.service_layer import partners, staff, verifying
from mandi_partners.service_layer.partners import Decision, Outcome
from mandi_partners.service_layer.unit_of_work import PageRequest, PartnerFilter
from mandi_partners.service_layer.views import InternalPartnerView, PartnerView, StaffView
from mandi_runtime.pages import CURSOR_PATTERN, Position, decode_cursor, encode_cursor
from mandi_runtime.requests import IdempotencyDep, IfMatchDep, PrincipalDep, etag

__all__ = ["router"]

router = APIRouter()

AnyPartnerView = InternalPartnerView | PartnerView
_TAX_ID_PARAMETERS = frozenset({"tax_id", "tax_id_kind"})


def _answer(outcome: Outcome, response: Response) -> AnyPartnerView:
    response.headers["ETag"] = etag(outcome.view.version)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome.view


@router.post("/", response_model=AnyPartnerView, status_code=status.HTTP_201_CREATED)
async def register_partner(
    body: RegisterIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> AnyPartnerView:
    """Registers a company; its application is pending until submitted."""
    outcome = await partners.register(deps, principal, body.to_command(), idempotency)
    response.headers["Location"] = f"/api/v1/partners/{outcome.view.id}"
    return _answer(outcome, response)


def _no_tax_id_in_the_query(request: Request) -> None:
    # A URL is written into access logs and traces on its way here; ignoring the parameter
    # instead would answer the whole list as if it were the partner asked for.
    if _TAX_ID_PARAMETERS & request.query_params.keys():
        raise BadRequest(
            "Tax ids are never sent in a URL: look a partner up by its tax id with"
            " POST /api/v1/partners/search, the tax id in the JSON body."
        )


def _mark_next_page(following: Position | None, response: Response) -> str | None:
    next_cursor = encode_cursor(following)
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
    return next_cursor


@router.get(
    "/",
    response_model=list[AnyPartnerView],
    dependencies=[Depends(_no_tax_id_in_the_query)],
)
async def list_partners(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    status_is: Annotated[PartnerStatus | None, Query(alias="status")] = None,
    partner_type: Annotated[PartnerType | None, Query(alias="type")] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    group_id: UUID | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, pattern=TEXT_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> list[AnyPartnerView]:
    """Partners, oldest first; `Link: <…>; rel="next"` points at the next page."""
    criteria = PartnerFilter(
        status=status_is,
        partner_type=partner_type,
        country=country.upper() if country else None,
        group_id=group_id,
        name_prefix=q,
    )
    views, following = await partners.list_partners(
        deps, principal, criteria, PageRequest(limit, decode_cursor(cursor))
    )
    next_cursor = _mark_next_page(following, response)
    if next_cursor:
        response.headers["Link"] = (
            f'</api/v1/partners/?limit={limit}&cursor={next_cursor}>; rel="next"'
        )
    return views


@router.post("/search", response_model=list[AnyPartnerView])
async def search_partners(
    body: SearchIn, principal: PrincipalDep, deps: DepsDep, response: Response
) -> list[AnyPartnerView]:
    """Partners holding a tax id, sent in the body so that it stays out of URLs and their logs.

    A read (`partners:read`). Paged oldest first like the list: the next page is the same search
    with `cursor` set to the answer's `X-Next-Cursor`.
    """
    views, following = await partners.list_partners(
        deps, principal, body.to_filter(), PageRequest(body.limit, decode_cursor(body.cursor))
    )
    _mark_next_page(following, response)
    return views


@router.get("/{partner_id:uuid}", response_model=AnyPartnerView)
async def get_partner(
    partner_id: UUID, principal: PrincipalDep, deps: DepsDep, response: Response
) -> AnyPartnerView:
    """One partner, as the caller may see it."""
    view = await partners.get_partner(deps, principal, partner_id)
    response.headers["ETag"] = etag(view.version)
    return view


@router.get("/{partner_id:uuid}/staff", response_model=list[StaffView])
async def partner_staff(
    partner_id: UUID, principal: PrincipalDep, deps: DepsDep
) -> list[StaffView]:
    """The users acting for the partner, as auth created them (a moment after)."""
    return await staff.partner_staff(deps, principal, partner_id)


@router.patch("/{partner_id:uuid}", response_model=AnyPartnerView)
async def amend_partner(
    *,
    partner_id: UUID,
    body: AmendIn,
    principal: PrincipalDep,
    deps: DepsDep,
    if_match: IfMatchDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> AnyPartnerView:
    """Updates a partner's details; If-Match names the version the client read."""
    outcome = await partners.amend(
        deps,
        principal,
        partner_id,
        body.to_changes(),
        if_match=if_match,
        idempotency=idempotency,
    )
    return _answer(outcome, response)


@router.post("/{partner_id:uuid}/verification", response_model=AnyPartnerView)
async def verify_again(
    partner_id: UUID, principal: PrincipalDep, deps: DepsDep, response: Response
) -> AnyPartnerView:
    """Asks the verifier again now about a waiting application (operator staff)."""
    view = await verifying.verify_now(deps, principal, partner_id)
    response.headers["ETag"] = etag(view.version)
    return view


class _DecisionConvertor(StringConvertor):
    # Only a decision's name matches the route: POST /{id}/staff is then a 405, as the other
    # sub-resources' are, not a 422 naming the decisions.
    regex = "|".join(decision.value for decision in Decision)


register_url_convertor("decision", _DecisionConvertor())


@router.post("/{partner_id:uuid}/{decision:decision}", response_model=AnyPartnerView)
async def decide(
    *,
    partner_id: UUID,
    decision: Decision,
    principal: PrincipalDep,
    deps: DepsDep,
    if_match: IfMatchDep,
    idempotency: IdempotencyDep,
    response: Response,
    body: DecisionIn | None = None,
) -> AnyPartnerView:
    """submit, approve, reject, revise, suspend or reinstate; a note or reason in the body."""
    outcome = await partners.decide(
        deps,
        principal,
        partner_id,
        decision,
        body.note if body else None,
        if_match=if_match,
        idempotency=idempotency,
    )
    return _answer(outcome, response)


@router.get("/{partner_id:uuid}/trade-check/{other_id:uuid}", response_model=TradeCheckOut)
async def trade_check(
    partner_id: UUID, other_id: UUID, principal: PrincipalDep, deps: DepsDep
) -> TradeCheckOut:
    """Whether two partners may trade with each other (the insider-trading rule)."""
    check = await partners.trade_check(deps, principal, partner_id, other_id)
    return TradeCheckOut(allowed=check.allowed, reason=check.reason)
