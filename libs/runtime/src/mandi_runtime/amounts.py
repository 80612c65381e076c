"""Exact amounts an API accepts: decimals sent as JSON numbers or strings, never floats.

`Amount` is zero or more, `PositiveAmount` more than zero, `SignedAmount` any sign; each has at
most six decimal places (more is refused, not rounded: the domain keeps what it was sent) and
stays below 10^17. A string is held to its documented pattern, since Decimal would also read
"1e5" or " 7"; the OpenAPI document says both forms, so clients and fuzzers send what passes.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

__all__ = ["Amount", "PositiveAmount", "SignedAmount"]

_DECIMAL_TEXT = r"^-?[0-9]{1,17}(\.[0-9]{1,6})?$"
_EXACT = "An exact amount, at most six decimal places."


def _amount(*, positive: bool = False, signed: bool = True) -> WithJsonSchema:
    number: dict[str, object] = {"type": "number", "exclusiveMaximum": 1e17}
    if positive:
        number["exclusiveMinimum"] = 0
    else:
        number["minimum"] = -1e17 if signed else 0
    text = _DECIMAL_TEXT if signed and not positive else _DECIMAL_TEXT.replace("-?", "")
    return WithJsonSchema(
        {"anyOf": [number, {"type": "string", "pattern": text}], "description": _EXACT}
    )


def _as_written(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(_DECIMAL_TEXT, value):
        raise ValueError("an amount is written as digits, with at most six decimal places")
    return value


_LIMIT = Decimal("1e17")
PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_as_written),
    Field(gt=0, lt=_LIMIT, allow_inf_nan=False),
    _amount(positive=True),
]
Amount = Annotated[
    Decimal,
    BeforeValidator(_as_written),
    Field(ge=0, lt=_LIMIT, allow_inf_nan=False),
    _amount(signed=False),
]
SignedAmount = Annotated[
    Decimal,
    BeforeValidator(_as_written),
    Field(ge=-_LIMIT, lt=_LIMIT, allow_inf_nan=False),
    _amount(positive=False),
]
