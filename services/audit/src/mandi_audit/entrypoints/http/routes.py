"""The audit API: records by aggregate, actor, type, time and correlation; verification; the
published keys; partners' exports. Thin: each route parses, calls one use case, shapes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from mandi_audit.entrypoints.http.deps import DepsDep
from mandi_audit.entrypoints.http.schemas import Moment, Text
from mandi_audit.service_layer import checkpoints, exports, records, verifying
from mandi_audit.service_layer.ports import RecordFilter
from mandi_audit.service_layer.views import (
    KeySetView,
    RecordView,
    VerificationView,
    verification_view,
)
from mandi_runtime.requests import PrincipalDep

__all__ = ["router"]

router = APIRouter()

_EXPORT_TYPE = "application/x-ndjson"
_SEQ_CURSOR = r"^[0-9]{1,18}$"


@router.get("/records", response_model=list[RecordView], tags=["records"])
async def find_records(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    response: Response,
    aggregate: Text = None,
    actor: Text = None,
    type: Text = None,  # noqa: A002 - the query parameter's name
    correlation_id: Text = None,
    occurred_from: Annotated[Moment | None, Query(alias="from")] = None,
    occurred_to: Annotated[Moment | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=_SEQ_CURSOR)] = None,
) -> list[RecordView]:
    """Records in chain order matching every filter given (`from` inclusive, `to` exclusive):
    who did what (actor, type, aggregate), when, and why (correlation_id, payload). Operators
    see the tenant's log; a partner's staff the records that concern their partner.
    `X-Next-Cursor` names the next page."""
    wanted = RecordFilter(aggregate, actor, type, correlation_id, occurred_from, occurred_to)
    after = int(cursor) if cursor else 0
    page, following = await records.find_records(deps, principal, wanted, after, limit)
    if following is not None:
        response.headers["X-Next-Cursor"] = str(following)
    return page


@router.get("/verification", response_model=VerificationView, tags=["verification"])
async def verify(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    first: Annotated[int, Query(ge=1, le=2**62)] = 1,
    last: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> VerificationView:
    """Verifies the tenant's chain (or records first..last of it) against its records and
    signed checkpoints; names the first broken link. Operator staff only."""
    return verification_view(await verifying.verify_for(deps, principal, first, last))


@router.get("/.well-known/jwks.json", response_model=KeySetView, tags=["verification"])
async def key_set(deps: DepsDep) -> KeySetView:
    """Every key that ever signed a checkpoint or an export (Ed25519, RFC 8037): what an
    offline verifier needs. Public."""
    return KeySetView.model_validate(await checkpoints.key_set(deps))


@router.get(
    "/exports",
    response_class=Response,
    tags=["exports"],
    responses={200: {"content": {_EXPORT_TYPE: {"schema": {"type": "string"}}}}},
)
async def export(
    *,
    principal: PrincipalDep,
    deps: DepsDep,
    occurred_from: Annotated[Moment, Query(alias="from")],
    occurred_to: Annotated[Moment, Query(alias="to")],
    partner_id: UUID | None = None,
) -> Response:
    """The caller's partner's records of [from, to) in full, the rest of that stretch of the
    chain as digests, and the signed checkpoint ending it: JSON Lines that
    `python -m mandi_audit verify export.jsonl --keys keys.json` verifies offline. Operator
    staff name the partner."""
    body = await exports.export_for(deps, principal, occurred_from, occurred_to, partner_id)
    return Response(
        content=body,
        media_type=_EXPORT_TYPE,
        headers={"Content-Disposition": 'attachment; filename="audit-export.jsonl"'},
    )
