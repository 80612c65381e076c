import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from mandi_webhooks import (
    WebhookMalformed,
    WebhookSecret,
    WebhookSignatureInvalid,
    WebhookTimestampOutsideTolerance,
    sign,
    verify,
    webhook_headers,
)

# The example the Standard Webhooks specification publishes, with its signature.
SPEC_SECRET = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

PAYLOAD = {"type": "trade.confirmed", "data": {"trade_id": "trd_1", "price": "12.50 €"}}
BODY = json.dumps(PAYLOAD, ensure_ascii=False).encode()
NOW = 1_780_000_000


def test_signing_the_specifications_example_gives_its_signature() -> None:
    assert sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, [SPEC_SECRET]) == SPEC_SIGNATURE


def test_the_specifications_example_verifies() -> None:
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }

    message = verify(headers, SPEC_BODY, [SPEC_SECRET], now=SPEC_TIMESTAMP + 10)

    assert (message.message_id, message.timestamp, message.body) == (
        SPEC_ID,
        SPEC_TIMESTAMP,
        SPEC_BODY,
    )


def test_the_headers_of_a_delivery() -> None:
    headers = webhook_headers(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, [SPEC_SECRET])

    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SPEC_SIGNATURE,
    }


def test_every_delivery_verifies_with_the_reference_library() -> None:
    secret = WebhookSecret.generate()
    for index in range(20):
        body = json.dumps({**PAYLOAD, "sequence": index}, ensure_ascii=False).encode()
        headers = webhook_headers(f"msg_{index}", int(time.time()), body, [secret])

        assert Webhook(secret.reveal()).verify(body, headers) == {**PAYLOAD, "sequence": index}


def test_a_message_the_reference_library_signs_verifies_with_ours() -> None:
    secret = WebhookSecret.generate()
    signature = Webhook(secret.reveal()).sign(
        "msg_reference", datetime.fromtimestamp(NOW, UTC), BODY.decode()
    )
    headers = {"webhook-id": "msg_reference", "webhook-timestamp": str(NOW)}

    message = verify({**headers, "webhook-signature": signature}, BODY, [secret], now=NOW)

    assert message.message_id == "msg_reference"
    assert json.loads(message.body) == PAYLOAD


def test_during_a_rotation_both_secrets_sign_and_each_verifies_alone() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    headers = webhook_headers("msg_rotating", int(time.time()), BODY, [old, new])

    entries = headers["webhook-signature"].split(" ")
    assert [entry.split(",")[0] for entry in entries] == ["v1", "v1"]
    assert entries == [
        sign("msg_rotating", int(headers["webhook-timestamp"]), BODY, [s]) for s in (old, new)
    ]
    for secret in (old, new):
        assert Webhook(secret.reveal()).verify(BODY, headers) == PAYLOAD
        assert verify(headers, BODY, [secret]).message_id == "msg_rotating"


def test_a_receiver_that_knows_both_secrets_accepts_either_signature() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    for signer in (old, new):
        headers = webhook_headers("msg_1", NOW, BODY, [signer])

        assert verify(headers, BODY, [old, new], now=NOW).message_id == "msg_1"


def test_a_tampered_body_is_refused_by_both_libraries() -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers("msg_1", int(time.time()), BODY, [secret])
    tampered = BODY.replace(b"12.50", b"1.25")

    with pytest.raises(WebhookSignatureInvalid):
        verify(headers, tampered, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret.reveal()).verify(tampered, headers)


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-id": "msg_2"},
        {"webhook-timestamp": str(NOW + 1)},
    ],
)
def test_a_changed_id_or_timestamp_breaks_the_signature(change: dict[str, str]) -> None:
    secret = WebhookSecret.generate()
    headers = {**webhook_headers("msg_1", NOW, BODY, [secret]), **change}

    with pytest.raises(WebhookSignatureInvalid):
        verify(headers, BODY, [secret], now=NOW)


def test_a_wrong_secret_is_refused() -> None:
    headers = webhook_headers("msg_1", NOW, BODY, [WebhookSecret.generate()])

    with pytest.raises(WebhookSignatureInvalid) as refused:
        verify(headers, BODY, [WebhookSecret.generate()], now=NOW)

    assert refused.value.status == 401
    assert refused.value.type_uri == "urn:mandi:problem:webhook-signature-invalid"


def test_a_receiver_without_secrets_accepts_nothing() -> None:
    headers = webhook_headers("msg_1", NOW, BODY, [WebhookSecret.generate()])

    with pytest.raises(WebhookSignatureInvalid):
        verify(headers, BODY, [], now=NOW)


@pytest.mark.parametrize("skew", [300, -300, 0, 1, -1])
def test_a_timestamp_within_five_minutes_either_way_is_accepted(skew: int) -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers("msg_1", NOW, BODY, [secret])

    assert verify(headers, BODY, [secret], now=NOW + skew).timestamp == NOW


@pytest.mark.parametrize("skew", [301, -301, 86_400, -86_400])
def test_a_stale_or_future_timestamp_is_refused(skew: int) -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers("msg_1", NOW, BODY, [secret])

    with pytest.raises(WebhookTimestampOutsideTolerance) as refused:
        verify(headers, BODY, [secret], now=NOW + skew)

    assert refused.value.status == 401
    assert "300 s" in refused.value.detail


def test_the_tolerance_is_configurable() -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers("msg_1", NOW, BODY, [secret])

    assert verify(headers, BODY, [secret], tolerance=timedelta(hours=1), now=NOW + 3600)
    with pytest.raises(WebhookTimestampOutsideTolerance):
        verify(headers, BODY, [secret], tolerance=timedelta(seconds=10), now=NOW + 11)


def test_a_stale_delivery_signed_now_is_refused_by_the_reference_library_too() -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers("msg_1", int(time.time()) - 600, BODY, [secret])

    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret.reveal()).verify(BODY, headers)


def test_header_names_are_matched_without_regard_to_case() -> None:
    secret = WebhookSecret.generate()
    headers = {
        name.title(): value for name, value in webhook_headers("m", NOW, BODY, [secret]).items()
    }

    assert set(headers) == {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
    assert verify(headers, BODY, [secret], now=NOW).message_id == "m"


def test_other_signature_versions_and_noise_are_ignored_beside_a_good_signature() -> None:
    secret = WebhookSecret.generate()
    good = sign("msg_1", NOW, BODY, [secret])
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": f"v1a,c2lnbmF0dXJl v1,!!notbase64!! nocomma  v2,{good[3:]} {good}",
    }

    assert verify(headers, BODY, [secret], now=NOW).message_id == "msg_1"


@pytest.mark.parametrize(
    "signature",
    ["", "v1,", "v1,!!!", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,é"],
)
def test_a_missing_or_unreadable_signature_is_not_authenticated(signature: str) -> None:
    headers = {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": signature}

    with pytest.raises(WebhookSignatureInvalid):
        verify(headers, BODY, [WebhookSecret.generate()], now=NOW)


@pytest.mark.parametrize(
    ("headers", "missing"),
    [
        ({"webhook-timestamp": str(NOW)}, "webhook-id header is missing"),
        ({"webhook-id": "", "webhook-timestamp": str(NOW)}, "webhook-id header is missing"),
        ({"webhook-id": "m"}, "webhook-timestamp header is not Unix seconds"),
        ({"webhook-id": "m", "webhook-timestamp": "soon"}, "not Unix seconds"),
        ({"webhook-id": "m", "webhook-timestamp": "-5"}, "not Unix seconds"),
        ({"webhook-id": "m", "webhook-timestamp": "1780000000.5"}, "not Unix seconds"),
        ({"webhook-id": "m", "webhook-timestamp": "1_780_000_000"}, "not Unix seconds"),
        ({"webhook-id": "m", "webhook-timestamp": "9" * 40}, "not Unix seconds"),
    ],
)
def test_a_delivery_without_a_readable_id_or_timestamp_is_malformed(
    headers: dict[str, str], missing: str
) -> None:
    signed = {**headers, "webhook-signature": "v1,AAAA"}

    with pytest.raises(WebhookMalformed) as refused:
        verify(signed, BODY, [WebhookSecret.generate()], now=NOW)

    assert missing in refused.value.detail
    assert refused.value.status == 400
    assert refused.value.type_uri == "urn:mandi:problem:webhook-malformed"


@pytest.mark.parametrize(
    ("message_id", "timestamp", "secrets"),
    [
        ("msg_1", NOW, []),
        ("", NOW, [SPEC_SECRET]),
        ("msg 1", NOW, [SPEC_SECRET]),
        ("msg_1\r\nX-Injected: 1", NOW, [SPEC_SECRET]),
        ("msg_1", -1, [SPEC_SECRET]),
    ],
)
def test_signing_refuses_what_no_receiver_could_verify(
    message_id: str, timestamp: int, secrets: list[WebhookSecret]
) -> None:
    with pytest.raises(ValueError, match=r"at least one secret|printable ASCII|not negative"):
        sign(message_id, timestamp, BODY, secrets)
