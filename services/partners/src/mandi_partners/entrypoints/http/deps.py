"""FastAPI dependencies of the partners service: its use cases' dependencies; the caller,
Idempotency-Key and If-Match are the runtime's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mandi_partners.service_layer.dependencies import PartnersDependencies
from mandi_runtime.requests import deps_of

__all__ = ["DepsDep"]

DepsDep = Annotated[PartnersDependencies, Depends(deps_of)]
