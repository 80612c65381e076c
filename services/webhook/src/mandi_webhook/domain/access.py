"""Who may see and change which endpoints.

A partner's staff and integrations (external principals) register and manage their own
partner's endpoints; another partner's do not exist for them. Operator staff (internal
principals) see every endpoint of their tenant and act for the partner they name.
"""

from __future__ import annotations

from uuid import UUID

from mandi_errors import InvalidInput, NotFound, PermissionDenied
from mandi_security.principal import Principal

__all__ = ["READ", "WRITE", "acting_partner", "listed_partner", "require_visible"]

READ = "webhook:read"
WRITE = "webhook:write"


def acting_partner(principal: Principal, partner_id: UUID | None) -> UUID:
    """The partner an endpoint is registered for: the caller's own, or the one operator staff
    name."""
    principal.require_scope(WRITE)
    if principal.is_internal:
        if partner_id is None:
            raise InvalidInput("Operator staff name the partner they act for (partner_id).")
        return partner_id
    if principal.partner_id is None or partner_id not in {None, principal.partner_id}:
        raise PermissionDenied("A partner's staff register endpoints for their own partner only.")
    return principal.partner_id


def listed_partner(principal: Principal, partner_id: UUID | None) -> UUID | None:
    """Whose endpoints a list shows: the caller's partner's, or (operator staff) the named
    partner's or every partner's (None)."""
    principal.require_scope(READ)
    if principal.is_internal:
        return partner_id
    if partner_id not in {None, principal.partner_id}:
        raise NotFound("No such partner.")
    return principal.partner_id


def require_visible(principal: Principal, partner_id: UUID, *, scope: str = READ) -> None:
    """Refuses another partner's endpoint as if it did not exist."""
    principal.require_scope(scope)
    if not principal.is_internal and principal.partner_id != partner_id:
        raise NotFound("No such endpoint.")
