"""What a gateway request needs: `<service>:read` to read, `<service>:write` otherwise, and a
scope of its own for the few writes that are another role's everyday act.

The service is the one the gateway's route targets, named in the route's own configuration;
it is never parsed out of what the client sent. The path is the normalised one nginx routed on
(`//` merged, `%xx` decoded, `..` resolved), and must lie under that service's prefix: anything
else is refused, never let through as "no scope needed".
"""

from __future__ import annotations

import re

__all__ = ["PUBLIC_ROUTES", "required_scope"]

_SERVICE = re.compile(r"[a-z][a-z0-9-]{0,39}")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# A POST to a path ending in /search is a query whose criteria are too sensitive for a URL
# (tax ids): it reads, so it needs the read scope.
_QUERY_SUFFIX = "/search"
# Writes that need a scope of their own: asking for a risk assessment is operator staff's
# everyday act (`risk:assess`), while `risk:write` sets limits and promotes models.
_OWN_SCOPES = {("risk", "POST", "/assessments"): "assess"}

# Reached without a credential: they are how a credential is obtained or checked.
PUBLIC_ROUTES = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/token/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/.well-known/jwks.json",
    }
)


def required_scope(method: str, service: str, path: str) -> str | None:
    """The scope the request needs; None when the route is not one to pass on at all."""
    if not _SERVICE.fullmatch(service) or not _under(path, f"/api/v1/{service}"):
        return None
    verb = method.upper()
    within_service = path.rstrip("/").removeprefix(f"/api/v1/{service}")
    own = _OWN_SCOPES.get((service, verb, within_service))
    if own is not None:
        return f"{service}:{own}"
    reads = verb in _READS or (verb == "POST" and within_service.endswith(_QUERY_SUFFIX))
    return f"{service}:{'read' if reads else 'write'}"


def _under(path: str, prefix: str) -> bool:
    # nginx hands over a normalised path; one that is not (a changed configuration) is refused.
    segments = path.split("/")[1:]
    if "" in segments[:-1] or "." in segments or ".." in segments:
        return False
    return path == prefix or path.startswith(prefix + "/")
