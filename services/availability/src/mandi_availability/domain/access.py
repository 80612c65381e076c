"""Who may do what on the order book.

Operator staff (internal principals) manage the catalog and act for any partner of their
tenant. A partner's own staff and integrations (external principals) act for their partner only.
Every caller with the read scope reads the catalog and the offers on the book; a draft, or an
offer taken off the book, is seen by its partner and the operator only.
"""

from __future__ import annotations

from uuid import UUID

from mandi_errors import InvalidInput, PermissionDenied
from mandi_security.principal import Principal

__all__ = ["READ", "WRITE", "acting_partner", "require_operator", "sees"]

READ = "availability:read"
WRITE = "availability:write"


def require_operator(principal: Principal, action: str) -> None:
    """Refuses what only the marketplace operator's staff do, such as changing the catalog."""
    principal.require_scope(WRITE)
    if not principal.is_internal:
        raise PermissionDenied(f"Only the marketplace operator's staff {action}.")


def acting_partner(principal: Principal, partner_id: UUID | None) -> UUID:
    """The partner the principal acts for: its own, or any one operator staff name."""
    principal.require_scope(WRITE)
    if principal.is_internal:
        if partner_id is None:
            raise InvalidInput("Operator staff name the partner they act for (partner_id).")
        return partner_id
    if principal.partner_id is None or partner_id not in {None, principal.partner_id}:
        raise PermissionDenied("A partner's staff act for their own partner only.")
    return principal.partner_id


def sees(principal: Principal, partner_id: UUID, *, on_the_book: bool) -> bool:
    """Whether the principal may see an offer of this partner."""
    return on_the_book or principal.is_internal or principal.partner_id == partner_id
