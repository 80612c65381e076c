"""Keyset cursors: a page's position given out and read back exactly, a forged one a 400."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from mandi_errors import BadRequest
from mandi_runtime.pages import CURSOR_PATTERN, decode_cursor, encode_cursor

ROW = UUID("0b6f5a4e-9c1d-4e2f-8a3b-7c6d5e4f3a2b")


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC),
        datetime(2026, 3, 14, 9, 26, 53, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 14, 14, 56, 53, 589793, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
    ids=["microseconds", "one microsecond", "the epoch", "another time zone"],
)
def test_a_cursor_reads_back_as_the_same_instant_and_row(created_at: datetime) -> None:
    cursor = encode_cursor((created_at, ROW))

    assert decode_cursor(cursor) == (created_at, ROW)


def test_cursors_of_rows_one_microsecond_apart_differ() -> None:
    earlier = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
    later = earlier + timedelta(microseconds=1)

    assert encode_cursor((earlier, ROW)) != encode_cursor((later, ROW))


def test_no_position_is_no_cursor_and_no_cursor_is_the_first_page() -> None:
    assert encode_cursor(None) is None
    assert decode_cursor(None) is None


def test_a_cursor_given_out_has_the_shape_the_api_accepts() -> None:
    created_at = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
    for row_id in (ROW, uuid4(), UUID(int=0)):
        cursor = encode_cursor((created_at, row_id))
        assert cursor is not None
        assert re.fullmatch(CURSOR_PATTERN, cursor), cursor


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "12x4-0b6f5a4e9c1d4e2f8a3b7c6d5e4f3a2b",
        "1700000000000000",
        "1700000000000000-",
        "1700000000000000-zz6f5a4e9c1d4e2f8a3b7c6d5e4f3a2b",
        "1700000000000000-0b6f5a4e",
        f"{10**18}-0b6f5a4e9c1d4e2f8a3b7c6d5e4f3a2b",
        f"{10**30}-0b6f5a4e9c1d4e2f8a3b7c6d5e4f3a2b",
    ],
    ids=[
        "empty",
        "words",
        "bad number",
        "no row",
        "empty row",
        "bad hex",
        "short hex",
        "past year 9999",
        "past any timedelta",
    ],
)
def test_a_malformed_cursor_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        decode_cursor(cursor)
