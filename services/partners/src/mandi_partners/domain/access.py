"""Who may see and change which partner.

Operator staff (internal principals) see and manage every partner of their tenant; a partner's
own staff and integrations (external principals) see only their partner, may complete its
application while it is pending, and never see what reviewers record about it.
"""

from __future__ import annotations

from uuid import UUID

from mandi_errors import NotFound, PermissionDenied
from mandi_partners.domain.partner import PartnerChanges
from mandi_security.principal import Principal

__all__ = [
    "READ",
    "WRITE",
    "learns_who_holds_tax_ids",
    "require_internal",
    "require_may_amend",
    "require_visible",
    "sees_internal_fields",
]

READ = "partners:read"
WRITE = "partners:write"


def require_visible(principal: Principal, partner_id: UUID, *, scope: str = READ) -> None:
    """Refuses a partner the principal may not see, as if it did not exist."""
    principal.require_scope(scope)
    if not principal.is_internal and principal.partner_id != partner_id:
        raise NotFound("No such partner.")


def require_internal(principal: Principal, action: str, *, scope: str = WRITE) -> None:
    """Refuses what only operator staff do: registering, reviewing, suspending partners."""
    principal.require_scope(scope)
    if not principal.is_internal:
        raise PermissionDenied(f"Only the marketplace operator's staff {action}.")


def require_may_amend(principal: Principal, partner_id: UUID, changes: PartnerChanges) -> None:
    """A partner's own staff update its details; its group and risk flags are the operator's."""
    require_visible(principal, partner_id, scope=WRITE)
    if not principal.is_internal and (
        changes.group_id is not None or changes.risk_flags is not None
    ):
        raise PermissionDenied("Only the marketplace operator's staff set groups and risk flags.")


def learns_who_holds_tax_ids(principal: Principal) -> bool:
    """Whether a tax id another partner holds is refused outright (409) rather than contested.

    Operator staff may know which companies are registered; a partner's own staff may not learn
    it from the answer to their amendment.
    """
    return principal.is_internal


def sees_internal_fields(principal: Principal) -> bool:
    """Whether review notes, risk flags, group links and whole tax ids are shown."""
    return principal.is_internal
