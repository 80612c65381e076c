"""The matching API: thin routes, each parses, calls one use case and shapes the answer.

Behind the gateway these are `/api/v1/matching/…`. Accepting a proposal or cancelling a trade
starts a saga and answers 202 with its state and where to follow it. A replayed idempotent
answer says so in `Idempotent-Replayed`; a list's next page is named in `X-Next-Cursor`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from mandi_db import Answer
from mandi_matching.domain.proposals import ProposalStatus
from mandi_matching.entrypoints.http.deps import DepsDep
from mandi_matching.entrypoints.http.schemas import CancelIn, DeclineIn, ResolveIn, RetryIn
from mandi_matching.service_layer import proposals, trades
from mandi_matching.service_layer.views import (
    HistoryEntryView,
    ProposalView,
    SagaView,
    TradeView,
)
from mandi_runtime.pages import CURSOR_PATTERN, decode_cursor, encode_cursor
from mandi_runtime.requests import IdempotencyDep, PrincipalDep
from mandi_saga import SagaStatus

__all__ = ["router"]

router = APIRouter()
V = TypeVar("V", ProposalView, SagaView, TradeView)
_PROPOSALS, _TRADES, _SAGAS = "proposals", "trades", "sagas"
_SAGA_LOCATION = "/api/v1/matching/sagas/{}"


@router.get("/proposals", response_model=list[ProposalView], tags=[_PROPOSALS])
async def list_proposals(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    requirement_id: UUID | None = None,
    status_: Annotated[list[ProposalStatus] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> list[ProposalView]:
    """The caller's proposals, best first: a party's own side of each; every one of the
    tenant's for operator staff. Filter by requirement and status."""
    views, following = await proposals.proposals(
        deps,
        principal,
        requirement_id=requirement_id,
        statuses=tuple(each.value for each in status_) if status_ else None,
        limit=limit,
        after=_decode_rank(cursor),
    )
    _next_page(response, _encode_rank(following))
    return views


@router.get("/proposals/{proposal_id}", response_model=ProposalView, tags=[_PROPOSALS])
async def get_proposal(proposal_id: UUID, principal: PrincipalDep, deps: DepsDep) -> ProposalView:
    """One proposal from the caller's side: the score, its breakdown and the rationale."""
    return await proposals.proposal(deps, principal, proposal_id)


@router.post(
    "/proposals/{proposal_id}/accept",
    response_model=SagaView,
    status_code=status.HTTP_202_ACCEPTED,
    tags=[_PROPOSALS],
)
async def accept_proposal(
    *,
    proposal_id: UUID,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> SagaView:
    """Accepts a proposal: its trade saga starts. Follow it at `Location`; with the same
    `Idempotency-Key`, a second click starts nothing more."""
    answer = await proposals.accept(deps, principal, proposal_id, idempotency)
    response.headers["Location"] = _SAGA_LOCATION.format(answer.value.id)
    return _replayed(answer, response)


@router.post("/proposals/{proposal_id}/decline", response_model=ProposalView, tags=[_PROPOSALS])
async def decline_proposal(
    *,
    proposal_id: UUID,
    body: DeclineIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> ProposalView:
    """Declines a proposal; it is not proposed again."""
    answer = await proposals.decline(deps, principal, proposal_id, body.reason, idempotency)
    return _replayed(answer, response)


@router.get("/trades", response_model=list[TradeView], tags=[_TRADES])
async def list_trades(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> list[TradeView]:
    """The caller's trades, newest first (every one of the tenant's for operator staff)."""
    views, following = await trades.trades(
        deps, principal, limit=limit, after=decode_cursor(cursor) if cursor else None
    )
    _next_page(response, encode_cursor(following))
    return views


@router.get("/trades/{trade_id}", response_model=TradeView, tags=[_TRADES])
async def get_trade(trade_id: UUID, principal: PrincipalDep, deps: DepsDep) -> TradeView:
    """One trade the caller is party to."""
    return await trades.trade(deps, principal, trade_id)


@router.post(
    "/trades/{trade_id}/cancel",
    response_model=SagaView,
    status_code=status.HTTP_202_ACCEPTED,
    tags=[_TRADES],
)
async def cancel_trade(
    *,
    trade_id: UUID,
    body: CancelIn,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> SagaView:
    """Cancels a confirmed trade: its cancellation saga gives the quantity and credit back."""
    answer = await trades.cancel(deps, principal, trade_id, body.reason, idempotency)
    response.headers["Location"] = _SAGA_LOCATION.format(answer.value.id)
    return _replayed(answer, response)


@router.post("/trades/{trade_id}/settle", response_model=TradeView, tags=[_TRADES])
async def settle_trade(
    trade_id: UUID,
    principal: PrincipalDep,
    deps: DepsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> TradeView:
    """Records a trade paid and delivered (operator staff): the buyer's credit is given back."""
    return _replayed(await trades.settle(deps, principal, trade_id, idempotency), response)


@router.get("/sagas/{saga_id}", response_model=SagaView, tags=[_SAGAS])
async def get_saga(saga_id: UUID, principal: PrincipalDep, deps: DepsDep) -> SagaView:
    """A saga's state: its status, and each step's."""
    return await trades.saga(deps, principal, saga_id)


@router.get("/sagas/{saga_id}/history", response_model=list[HistoryEntryView], tags=[_SAGAS])
async def get_saga_history(
    saga_id: UUID, principal: PrincipalDep, deps: DepsDep
) -> list[HistoryEntryView]:
    """Everything that happened to a saga, oldest first: commands, replies, timeouts."""
    return await trades.saga_history(deps, principal, saga_id)


@router.post("/sagas/{saga_id}/retry", response_model=SagaView, tags=[_SAGAS])
async def retry_saga(
    saga_id: UUID, body: RetryIn, principal: PrincipalDep, deps: DepsDep
) -> SagaView:
    """Sends a stuck saga's pending compensation again (operator staff)."""
    return await trades.retry_saga(deps, principal, saga_id, body.reason)


@router.post("/sagas/{saga_id}/resolve", response_model=SagaView, tags=[_SAGAS])
async def resolve_saga(
    saga_id: UUID, body: ResolveIn, principal: PrincipalDep, deps: DepsDep
) -> SagaView:
    """Settles a stuck saga by hand, as failed or completed (operator staff)."""
    outcome = SagaStatus(body.outcome)
    return await trades.resolve_saga(deps, principal, saga_id, outcome, body.reason)


def _encode_rank(position: tuple[Decimal, UUID] | None) -> str | None:
    """A cursor after a proposal of this score and id: its score in hundredths, its id."""
    if position is None:
        return None
    score, proposal_id = position
    return f"{int(score * 100)}-{proposal_id.hex}"


def _decode_rank(cursor: str | None) -> tuple[Decimal, UUID] | None:
    if cursor is None:
        return None
    hundredths, _, proposal_id = cursor.partition("-")
    return Decimal(int(hundredths)) / 100, UUID(hex=proposal_id)


def _next_page(response: Response, cursor: str | None) -> None:
    if cursor:
        response.headers["X-Next-Cursor"] = cursor


def _replayed(answer: Answer[V], response: Response) -> V:
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return answer.value
