"""What a gateway request needs: `<service>:read` to read, `<service>:write` otherwise."""

from __future__ import annotations

import re

__all__ = ["PUBLIC_ROUTES", "required_scope"]

_API_PATH = re.compile(r"^/api/v1/(?P<service>[a-z][a-z0-9-]*)(?:/|$)")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})

# Reached without a credential: they are how a credential is obtained or checked.
PUBLIC_ROUTES = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/token/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/.well-known/jwks.json",
    }
)


def required_scope(method: str, uri: str) -> str | None:
    """The scope a request needs, or None when the path is not under /api/v1/<service>/."""
    path = uri.split("?", 1)[0]
    match = _API_PATH.match(path)
    if match is None:
        return None
    action = "read" if method.upper() in _READS else "write"
    return f"{match['service']}:{action}"
