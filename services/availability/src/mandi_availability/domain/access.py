"""Who may do what on the order book: operator staff manage the catalog; everyone with the
service's read scope reads it."""

from __future__ import annotations

from mandi_errors import PermissionDenied
from mandi_security.principal import Principal

__all__ = ["READ", "WRITE", "require_operator"]

READ = "availability:read"
WRITE = "availability:write"


def require_operator(principal: Principal, action: str) -> None:
    """Refuses what only the marketplace operator's staff do, such as changing the catalog."""
    principal.require_scope(WRITE)
    if not principal.is_internal:
        raise PermissionDenied(f"Only the marketplace operator's staff {action}.")
