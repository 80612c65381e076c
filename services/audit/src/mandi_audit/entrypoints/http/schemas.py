"""What the audit API's query parameters accept, exactly as its OpenAPI document says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

__all__ = ["Moment", "Text"]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _written_as_rfc3339(value: object) -> object:
    """Only an RFC 3339 date-time: not the Unix seconds pydantic would also take."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time, e.g. 2026-11-30T00:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """The moment in UTC; one that UTC cannot hold (year 0 or 10000) is refused, not a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the date-time is out of range") from error


# A date-time with its offset (RFC 3339), as the query parameter `from` or `to` takes it.
Moment = Annotated[AwareDatetime, BeforeValidator(_written_as_rfc3339), AfterValidator(_in_utc)]
# A filter's text: no control characters (PostgreSQL keeps no NUL in a text).
Text = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
