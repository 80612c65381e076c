"""Who may do what with risk.

Risk is the operator's: its staff, never a partner's, see limits, exposure and assessments.
Risk officers (the `risk:write` scope) set limits, ratings and payments and promote models;
operator staff with `risk:assess` (and the services acting for them) ask for assessments.
"""

from __future__ import annotations

from mandi_errors import PermissionDenied
from mandi_security.principal import Principal

__all__ = ["ASSESS", "READ", "WRITE", "require"]

READ = "risk:read"
WRITE = "risk:write"
ASSESS = "risk:assess"


def require(principal: Principal, scope: str) -> None:
    """Refuses a partner's principal, and operator staff without the scope."""
    if not principal.is_internal:
        raise PermissionDenied(
            "Risk is the marketplace operator's: a partner's staff see none of it."
        )
    principal.require_scope(scope)
