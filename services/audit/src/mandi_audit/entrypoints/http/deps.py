"""FastAPI dependencies of the audit service: its use cases' dependencies; the caller is the
runtime's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mandi_audit.service_layer.dependencies import AuditDependencies
from mandi_runtime.requests import deps_of

__all__ = ["DepsDep"]

DepsDep = Annotated[AuditDependencies, Depends(deps_of)]
