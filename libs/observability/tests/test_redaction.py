import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from mandi_observability import REDACTED, is_sensitive_key, redact, redact_event, redact_text

JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0"
    ".eyJzdWIiOiJ1c2VyLTEiLCJ0ZW5hbnQiOiJ0MSJ9"
    ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1tYWRlLXVw"
)
API_KEY = "mandi_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7"


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("mail ravi.kumar+orders@example.co.in today", "ravi.kumar+orders@example.co.in", "email"),
        ("call +919876543210", "+919876543210", "phone"),
        ("call +44 then +447911123456.", "+447911123456", "phone"),
        ("call 9876543210 now", "9876543210", "phone"),
        ("call +91 98765 43210 now", "+91 98765 43210", "phone"),
        ("call +91-98765-43210 now", "+91-98765-43210", "phone"),
        ("call 098765 43210 now", "098765 43210", "phone"),
        ("call 987-654-3210 now", "987-654-3210", "phone"),
        ("pan ABCDE1234F on file", "ABCDE1234F", "pan"),
        ("gstin 27ABCDE1234F1Z5 on file", "27ABCDE1234F1Z5", "gstin"),
        (f"token {JWT} rejected", JWT, "jwt"),
        (f"key {API_KEY} revoked", API_KEY, "api_key"),
        (f"key=_{API_KEY}_x", API_KEY, "api_key"),
        ("sent Bearer opaque-token.value~1 upstream", "opaque-token.value~1", "credential"),
        ("sent Basic dXNlcjpwYXNzd29yZA== upstream", "dXNlcjpwYXNzd29yZA==", "credential"),
        # Shaped like the words and ids that skip the scans, yet secrets: still caught.
        ("mandi_test_" + "abcdefgh" * 4, "mandi_test_" + "abcdefgh" * 4, "api_key"),
        ("eyJab.cd.ef", "eyJab.cd.ef", "jwt"),
        ("9876543210", "9876543210", "phone"),
        ("ABCDE1234F", "ABCDE1234F", "pan"),
        ("dsn postgresql://mandi:pa55-w0rd@db:5432/partners", "pa55-w0rd", "password"),
    ],
)
def test_values_that_look_like_pii_or_secrets_are_replaced_by_their_kind(
    text: str, secret: str, kind: str
) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert f"[REDACTED:{kind}]" in redacted


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"password": "correct horse battery", "user": "ravi"}', "correct horse battery"),
        ("{'client_secret': 's3cr3t'}", "s3cr3t"),
        ("login?password=hunter2&next=/home", "hunter2"),
        ("Authorization: Bearer opaque", "opaque"),
        ("X-Api-Key: not-a-mandi-shaped-key", "not-a-mandi-shaped-key"),
        ("Cookie: sid=abc123", "sid=abc123"),
        ("refresh_token = 'r-123'", "r-123"),
        ('Partner(name="Ravi Traders", tax_id="27-99")', "27-99"),
        ('note="forwarded: password=hunter2"', "hunter2"),
        ('password: "unterminated secret', "unterminated"),
    ],
)
def test_values_written_after_a_sensitive_key_inside_text_are_replaced(
    text: str, secret: str
) -> None:
    assert secret not in redact_text(text)


def test_the_key_and_quotes_around_a_redacted_value_are_kept() -> None:
    assert redact_text('{"password": "x y", "user": "ravi"}') == (
        '{"password": "[REDACTED]", "user": "ravi"}'
    )


@pytest.mark.parametrize(
    "text",
    [
        str(uuid4()),
        "9f0b8c2e-7d6a-4b1e-9c3d-2a7e5f6b8c9d",
        "2026-11-22T10:24:00.123456Z",
        "2026-11-22T10:24:00+05:30",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "reserved 500 kg of 12500 at 2150.75 INR for order 1234567",
        "shipment 20000000 grams, batch 98765-4",
        "epoch 1732270000123 and 5000000000",
        "invoice INV-2026-000123 and lot ABCD1234",
        "GET /partners/{partner_id}/locations/{location_id} 200",
        "see https://docs.example.in/runbooks/outbox#backlog",
        "kafka at localhost:9092, redis://localhost:6379/0",
        "basic checks passed, 12 of 12",
        "the bearer of the bill",
        "session started",
        "status: ok; attempts=3",
        "",
    ],
)
def test_ordinary_values_are_left_as_they_are(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "PASSWD",
        "client_secret",
        "refresh_token",
        "api_key",
        "X-Api-Key",
        "apikey",
        "Authorization",
        "cookie",
        "Set-Cookie",
        "private_key",
        "credentials",
        "session_id",
        "email",
        "Phone",
        "mobile",
        "pan",
        "gstin",
        "tax_id",
    ],
)
def test_sensitive_keys_are_recognised_whatever_their_case(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize(
    "key", ["event", "partner_id", "company", "panel", "email_verified_at", "phase", "quantity"]
)
def test_ordinary_keys_are_not_sensitive(key: str) -> None:
    assert not is_sensitive_key(key)


def test_sensitive_keys_are_blanked_in_nested_mappings_and_sequences() -> None:
    value = {
        "partner": {"name": "Ravi Traders", "contacts": [{"email": "a@b.in", "role": "ops"}]},
        "headers": {"Authorization": "anything at all", "Accept": "application/json"},
        "raw_headers": [(b"cookie", b"sid=1"), (b"accept", b"*/*")],
        "quantity": 9876543210,
    }
    assert redact(value) == {
        "partner": {"name": "Ravi Traders", "contacts": [{"email": REDACTED, "role": "ops"}]},
        "headers": {"Authorization": REDACTED, "Accept": "application/json"},
        "raw_headers": [["cookie", REDACTED], ["accept", "*/*"]],
        "quantity": 9876543210,  # numbers are data, never reinterpreted as phones
    }


def test_objects_without_a_json_form_are_rendered_and_scrubbed() -> None:
    class Contact:
        def __repr__(self) -> str:
            return "Contact(email='ravi@example.in', password='hunter2')"

    rendered = redact({"contact": Contact(), "when": datetime(2026, 1, 2, tzinfo=UTC)})
    assert isinstance(rendered, dict)
    assert "ravi@example.in" not in rendered["contact"]
    assert "hunter2" not in rendered["contact"]
    assert "2026, 1, 2" in rendered["when"]


def test_a_cyclic_value_is_redacted_without_recursing_forever() -> None:
    loop: dict[str, object] = {"email": "a@b.in", "note": "call 9876543210"}
    loop["self"] = loop
    rendered = str(redact(loop))
    assert "a@b.in" not in rendered
    assert "9876543210" not in rendered


def test_the_processor_redacts_every_field_of_an_event() -> None:
    event = {"event": "sent to ravi@example.in", "password": "x", "count": 3}
    assert redact_event(None, "info", event) == {
        "event": "sent to [REDACTED:email]",
        "password": REDACTED,
        "count": 3,
    }


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "a:" * 100_000,
        "x=1 " * 50_000,
        "password: " * 20_000,
        "9" * 200_000,
        "a@" * 100_000,
        "eyJ" * 70_000,
        "Bearer " * 30_000,
        'password="' + "x" * 200_000,
    ],
)
def test_redaction_time_grows_linearly_with_hostile_input(text: str) -> None:
    # Quadratic backtracking on 200 kB would take minutes; linear scans take milliseconds.
    started = time.perf_counter()
    redact_text(text)
    assert time.perf_counter() - started < 2.0


def test_keys_are_scrubbed_too_and_made_json_safe() -> None:
    key = uuid4()
    assert redact({"ravi@example.in": 3, key: "x", 7: "y"}) == {
        "[REDACTED:email]": 3,
        str(key): "x",
        7: "y",
    }
