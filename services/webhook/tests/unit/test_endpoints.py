"""Endpoints: filters among the public types, changes as new versions, disabling, and secrets
that rotate with an overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from mandi_errors import Conflict, InvalidInput
from mandi_webhook.domain.endpoints import (
    MAX_OVERLAP,
    Endpoint,
    EndpointChanges,
    SigningSecret,
    checked_url,
    event_filter,
)

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
KNOWN = frozenset({"trade.confirmed", "trade.settled", "match.proposed"})


def _endpoint(**changes: object) -> Endpoint:
    fields: dict[str, object] = {
        "partner_id": uuid4(),
        "url": "https://erp.example.com/hooks?token=abc",
        "event_types": frozenset({"trade.confirmed"}),
        "description": "ERP",
        "rate_limit": 50,
        "secret": SigningSecret.generate(NOW),
    }
    return Endpoint.register(**{**fields, **changes})  # type: ignore[arg-type]


def test_filters_are_public_types_and_none_means_every_type() -> None:
    assert event_filter(["trade.confirmed", "trade.confirmed"], KNOWN) == {"trade.confirmed"}
    assert event_filter([], KNOWN) == frozenset()
    with pytest.raises(InvalidInput, match=r"Unknown event types: trade\.teleported"):
        event_filter(["trade.confirmed", "trade.teleported"], KNOWN)


@pytest.mark.parametrize(
    ("url", "why"),
    [("https://erp.example.com/hooks#top", "no fragment"), ("https://e.com/" + "a" * 2000, "2000")],
)
def test_a_url_with_a_fragment_or_too_long_is_refused(url: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        checked_url(url)


def test_a_new_endpoint_is_enabled_at_version_1_with_one_secret() -> None:
    endpoint = _endpoint()
    assert (endpoint.enabled, endpoint.version, len(endpoint.secrets)) == (True, 1, 1)
    assert endpoint.host == "erp.example.com"
    assert endpoint.signing_secrets(NOW) == (endpoint.secrets[0].secret,)


@pytest.mark.parametrize("rate_limit", [0, 10_001])
def test_a_rate_limit_out_of_bounds_is_refused(rate_limit: int) -> None:
    with pytest.raises(InvalidInput, match="rate limit"):
        _endpoint(rate_limit=rate_limit)


def test_a_change_is_the_next_version_and_keeps_what_it_does_not_set() -> None:
    endpoint = _endpoint()
    later = NOW + timedelta(minutes=5)
    changed = endpoint.changed(EndpointChanges(description="ERP (primary)"), later)
    assert (changed.description, changed.url, changed.version) == ("ERP (primary)", endpoint.url, 2)
    assert changed.updated_at == later
    assert EndpointChanges().sets_nothing
    assert not EndpointChanges(enabled=False).sets_nothing


def test_disabling_says_why_once_and_enabling_clears_it() -> None:
    disabled = _endpoint().disabled("moving data centres", NOW)
    assert (disabled.enabled, disabled.disabled_reason, disabled.version) == (
        False,
        "moving data centres",
        2,
    )
    assert disabled.disabled("again", NOW) is disabled
    enabled = disabled.changed(EndpointChanges(enabled=True), NOW)
    assert (enabled.enabled, enabled.disabled_reason) == (True, None)
    assert _endpoint().changed(EndpointChanges(enabled=False), NOW).disabled_reason


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends() -> None:
    endpoint = _endpoint()
    old = endpoint.secrets[0].secret
    new = SigningSecret.generate(NOW + timedelta(hours=1))
    rotated = endpoint.rotated(new, timedelta(hours=24), NOW + timedelta(hours=1))

    assert rotated.signing_secrets(NOW + timedelta(hours=2)) == (new.secret, old)
    assert rotated.signing_secrets(NOW + timedelta(hours=25)) == (new.secret,)


def test_a_rotation_without_overlap_stops_the_old_secret_at_once() -> None:
    endpoint = _endpoint()
    new = SigningSecret.generate(NOW)
    rotated = endpoint.rotated(new, timedelta(0), NOW)
    assert rotated.secrets == (new,)
    assert rotated.signing_secrets(NOW) == (new.secret,)


def test_a_rotation_never_lengthens_an_earlier_overlap_and_drops_ended_secrets() -> None:
    first = _endpoint()
    second = first.rotated(SigningSecret.generate(NOW), timedelta(hours=1), NOW)
    third = second.rotated(SigningSecret.generate(NOW), timedelta(hours=5), NOW)
    ends = [each.expires_at for each in third.secrets]
    assert ends == [NOW + timedelta(hours=1), NOW + timedelta(hours=5), None]

    fourth = third.rotated(SigningSecret.generate(NOW), timedelta(0), NOW + timedelta(hours=2))
    assert len(fourth.secrets) == 1


def test_overlaps_are_bounded_and_so_are_secrets_signing_at_once() -> None:
    endpoint = _endpoint()
    with pytest.raises(InvalidInput, match="overlap"):
        endpoint.rotated(SigningSecret.generate(NOW), MAX_OVERLAP + timedelta(seconds=1), NOW)
    for _ in range(2):
        endpoint = endpoint.rotated(SigningSecret.generate(NOW), timedelta(hours=1), NOW)
    with pytest.raises(Conflict, match="3 secrets sign"):
        endpoint.rotated(SigningSecret.generate(NOW), timedelta(hours=1), NOW)
    assert len(endpoint.rotated(SigningSecret.generate(NOW), timedelta(0), NOW).secrets) == 1


def test_a_secret_never_shows_in_a_repr() -> None:
    secret = SigningSecret.generate(NOW)
    assert secret.secret.reveal() not in repr(secret)
    assert secret.secret.reveal() not in repr(_endpoint(secret=secret))
