"""Request bodies of the matching API: shapes and sizes here, rules in the domain.

Unknown fields are refused; every string has a bound, so an oversized value is a 422 rather
than a row.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from mandi_runtime.text import single_line

__all__ = ["CancelIn", "DeclineIn", "ResolveIn", "RetryIn"]

Reason = Annotated[str, single_line(500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclineIn(_Body):
    """Why a party declines a proposal."""

    reason: Reason = "declined"


class CancelIn(_Body):
    """Why a party cancels a trade."""

    reason: Reason


class RetryIn(_Body):
    """Why an operator sends a stuck saga's compensation again."""

    reason: Reason


class ResolveIn(_Body):
    """How an operator settles a stuck saga by hand, and why."""

    outcome: Literal["failed", "completed"]
    reason: Reason
