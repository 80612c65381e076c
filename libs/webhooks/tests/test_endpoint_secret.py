import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from mandi_webhooks import MalformedWebhookSecret, WebhookSecret, sign

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_a_generated_secret_is_32_random_bytes_in_the_whsec_format() -> None:
    secret = WebhookSecret.generate()

    text = secret.reveal()
    assert text.startswith("whsec_")
    assert base64.b64decode(text.removeprefix("whsec_")) == secret.key
    assert len(secret.key) == 32
    assert WebhookSecret.generate().key != secret.key


def test_a_revealed_secret_parses_back_to_the_same_key() -> None:
    secret = WebhookSecret.generate(64)

    assert WebhookSecret.parse(secret.reveal()) == secret


def test_the_specifications_example_secret_parses_to_its_24_bytes() -> None:
    secret = WebhookSecret.parse(SPEC_SECRET)

    assert len(secret.key) == 24
    assert secret.reveal() == SPEC_SECRET


def test_the_reference_library_signs_with_a_generated_secret_as_we_do() -> None:
    secret = WebhookSecret.generate()
    at = datetime.fromtimestamp(1_780_000_000, UTC)

    theirs = Webhook(secret.reveal()).sign("msg_1", at, "{}")

    assert theirs == sign("msg_1", 1_780_000_000, b"{}", [secret])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("whsec_MfKQ9r8G!YqrTwjUPD8ILPZIo2LaLaSw", "padded standard base64"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "padded standard base64"),
        ("whsec_" + base64.b64encode(bytes(16)).decode(), "24 to 64 bytes, not 16"),
        ("whsec_" + base64.b64encode(bytes(65)).decode(), "24 to 64 bytes, not 65"),
        ("whsec_", "24 to 64 bytes, not 0"),
    ],
)
def test_a_malformed_secret_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(MalformedWebhookSecret) as refused:
        WebhookSecret.parse(text)

    assert why in refused.value.detail
    assert refused.value.status == 422
    assert refused.value.type_uri == "urn:mandi:problem:webhook-secret-malformed"


def test_a_secret_of_the_wrong_size_cannot_be_generated() -> None:
    with pytest.raises(MalformedWebhookSecret):
        WebhookSecret.generate(16)


def test_the_key_never_shows_in_a_repr() -> None:
    secret = WebhookSecret.parse(SPEC_SECRET)

    assert repr(secret) == "WebhookSecret()"
    assert "MfKQ" not in str(secret)
