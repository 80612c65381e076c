"""Keyset pagination: a page starts after the last row of the previous one, named by a cursor.

A cursor is that row's creation time (microseconds since 1970) and id, `1700000000000000-<hex>`:
opaque to a client, which sends back the `X-Next-Cursor` it was given. Any string of the shape
is a position; a malformed one is a 400.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from pydantic import StringConstraints

from mandi_errors import BadRequest

__all__ = ["CURSOR_PATTERN", "Cursor", "Position", "decode_cursor", "encode_cursor"]

CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"
Cursor = Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)]
Position = tuple[datetime, UUID]  # the last row's creation time and id

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def decode_cursor(encoded: str | None) -> Position | None:
    """The position a cursor names; None for the first page."""
    if encoded is None:
        return None
    micros, _, row_id = encoded.partition("-")
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), UUID(hex=row_id)
    except (ValueError, OverflowError):
        raise BadRequest("The cursor is not one this API gave out.") from None


def encode_cursor(position: Position | None) -> str | None:
    """The cursor of the page after `position`; None when there is no next page."""
    if position is None:
        return None
    created_at, row_id = position
    return f"{(created_at - _EPOCH) // _MICROSECOND}-{row_id.hex}"
