"""Queries of the log: who did what, when and why, a page at a time.

Operators see their tenant's whole log; a partner's staff see the records that concern their
partner only (it is among the record's parties), never a filter's say-so.
"""

from __future__ import annotations

from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_audit.service_layer.ports import RecordFilter
from mandi_audit.service_layer.views import RecordView, record_view
from mandi_security import Principal

__all__ = ["find_records"]


async def find_records(
    deps: AuditDependencies, principal: Principal, wanted: RecordFilter, after: int, limit: int
) -> tuple[list[RecordView], int | None]:
    """A page of matching records in chain order, and the seq the next page starts after."""
    principal.require_scope("audit:read")
    party = None if principal.is_internal else principal.partner_id
    async with deps.log.reading(principal.tenant_id) as read:
        rows = await read.query(wanted, after, limit + 1, party)
    page = [record_view(row) for row in rows[:limit]]
    return page, (page[-1].seq if len(rows) > limit else None)
