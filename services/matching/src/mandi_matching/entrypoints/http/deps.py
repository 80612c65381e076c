"""FastAPI dependencies of the matching service: its use cases' dependencies; the caller,
Idempotency-Key and If-Match are the runtime's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mandi_matching.service_layer.dependencies import MatchingDependencies
from mandi_runtime.requests import deps_of

__all__ = ["DepsDep"]

DepsDep = Annotated[MatchingDependencies, Depends(deps_of)]
