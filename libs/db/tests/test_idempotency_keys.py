"""What makes an Idempotency-Key acceptable, and two requests the same request."""

from __future__ import annotations

import pytest

from mandi_db import IdempotencyKey, request_fingerprint
from mandi_errors import BadRequest


@pytest.mark.parametrize("value", ["", "k" * 201, "naïve-key", "has space", "tab\tkey"])
def test_a_key_is_one_to_two_hundred_visible_ascii_characters(value):
    with pytest.raises(BadRequest):
        IdempotencyKey.from_header("user-1", value, "fingerprint")


def test_a_valid_key_keeps_its_principal_and_fingerprint():
    key = IdempotencyKey.from_header("user-1", "order-42:retry", "abc")
    assert (key.principal_id, key.key, key.fingerprint) == ("user-1", "order-42:retry", "abc")


def test_the_fingerprint_tells_method_path_and_body_apart():
    same = request_fingerprint("post", "/partners", b'{"a":1}')
    assert same == request_fingerprint("POST", "/partners", b'{"a":1}')
    others = {
        request_fingerprint("PUT", "/partners", b'{"a":1}'),
        request_fingerprint("POST", "/partners/x", b'{"a":1}'),
        request_fingerprint("POST", "/partners", b'{"a":2}'),
        request_fingerprint("POST", "/partners{", b'"a":1}'),  # the boundary moved, not the bytes
    }
    assert same not in others
    assert len(others) == 4
