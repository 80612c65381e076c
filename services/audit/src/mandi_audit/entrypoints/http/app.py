"""The audit service's ASGI application (`serve` builds it in each worker)."""

from __future__ import annotations

from fastapi import FastAPI

from mandi_audit.config import Settings
from mandi_audit.entrypoints.service import DEFINITION
from mandi_runtime import app_of

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, background: bool = True) -> FastAPI:
    """The application; settings come from the environment unless given."""
    return app_of(DEFINITION, settings, background=background)
