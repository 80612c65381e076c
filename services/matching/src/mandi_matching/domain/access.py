"""Who may do what with proposals, trades and sagas.

A partner's staff and integrations (external principals) see and act on their own side only:
the proposals and trades their partner is party to. Operator staff (internal principals) see
every one of their tenant's, act for a party, and alone retry or resolve a stuck saga.
"""

from __future__ import annotations

from uuid import UUID

from mandi_errors import NotFound, PermissionDenied
from mandi_matching.domain.offers import Side, side_in
from mandi_security.principal import Principal

__all__ = ["READ", "WRITE", "own_partner", "require_operator", "side_of"]

READ = "matching:read"
WRITE = "matching:write"


def own_partner(principal: Principal, scope: str) -> UUID | None:
    """The partner whose proposals and trades the principal sees: its own; None (all of the
    tenant's) for operator staff."""
    principal.require_scope(scope)
    if principal.is_internal:
        return None
    if principal.partner_id is None:  # an external principal always names its partner
        raise PermissionDenied("A partner's credential names its partner.")
    return principal.partner_id


def side_of(principal: Principal, scope: str, buyer_id: UUID, seller_id: UUID) -> Side | None:
    """The side the principal sees a proposal or trade from (None: operator staff, both);
    NotFound when it is not its partner's, so others' ids reveal nothing."""
    partner = own_partner(principal, scope)
    if partner is None:
        return None
    side = side_in(partner, buyer_id, seller_id)
    if side is None:
        raise NotFound("No such proposal or trade.")
    return side


def require_operator(principal: Principal, action: str) -> None:
    """Refuses what only the marketplace operator's staff do, such as resolving a saga."""
    principal.require_scope(WRITE)
    if not principal.is_internal:
        raise PermissionDenied(f"Only the marketplace operator's staff {action}.")
