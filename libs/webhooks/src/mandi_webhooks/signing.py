"""Signing and verifying deliveries as Standard Webhooks specifies.

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`:
`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per signing secret, separated by
spaces, so that during a rotation the old and the new secret both sign and a receiver that
knows either one accepts the delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from mandi_errors import BadRequest, NotAuthenticated
from mandi_webhooks.endpoint_secret import WebhookSecret

__all__ = [
    "DEFAULT_TOLERANCE",
    "WEBHOOK_ID",
    "WEBHOOK_SIGNATURE",
    "WEBHOOK_TIMESTAMP",
    "VerifiedMessage",
    "WebhookMalformed",
    "WebhookSignatureInvalid",
    "WebhookTimestampOutsideTolerance",
    "sign",
    "verify",
    "webhook_headers",
]

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
DEFAULT_TOLERANCE = timedelta(minutes=5)

_VERSION = "v1"
# An id goes into a header and into the signed content: printable ASCII, no spaces.
_MESSAGE_ID = re.compile(r"[\x21-\x7e]+")
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class WebhookMalformed(BadRequest):
    """The delivery lacks its id or timestamp, or one of them cannot be read."""

    type_slug = "webhook-malformed"
    title = "Malformed webhook"


class WebhookSignatureInvalid(NotAuthenticated):
    """No signature of the delivery matches a secret the receiver knows."""

    type_slug = "webhook-signature-invalid"
    title = "Invalid webhook signature"


class WebhookTimestampOutsideTolerance(NotAuthenticated):
    """The delivery was signed too long ago, or claims to be from the future: a possible replay."""

    type_slug = "webhook-timestamp-outside-tolerance"
    title = "Webhook timestamp outside tolerance"


@dataclass(frozen=True)
class VerifiedMessage:
    """A delivery whose signature and timestamp were checked, with its raw body."""

    message_id: str
    timestamp: int
    body: bytes


def sign(message_id: str, timestamp: int, body: bytes, secrets: Sequence[WebhookSecret]) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per secret, separated by spaces."""
    if not secrets:
        raise ValueError("a delivery is signed with at least one secret")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("a webhook id is printable ASCII without spaces")
    if timestamp < 0:
        raise ValueError("a webhook timestamp is Unix seconds, not negative")
    content = _signed_content(message_id, str(timestamp), body)
    return " ".join(f"{_VERSION},{_encode(_digest(secret, content))}" for secret in secrets)


def webhook_headers(
    message_id: str, timestamp: int, body: bytes, secrets: Sequence[WebhookSecret]
) -> dict[str, str]:
    """The three Standard Webhooks headers of a delivery of `body`."""
    return {
        WEBHOOK_ID: message_id,
        WEBHOOK_TIMESTAMP: str(timestamp),
        WEBHOOK_SIGNATURE: sign(message_id, timestamp, body, secrets),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[WebhookSecret],
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> VerifiedMessage:
    """The delivery, if one of its signatures matches one of `secrets` within `tolerance`.

    Header names are matched without regard to case. Raises `WebhookMalformed` (400) for a
    missing or unreadable id or timestamp, `WebhookTimestampOutsideTolerance` (401) for a stale
    or future timestamp and `WebhookSignatureInvalid` (401) when no signature matches.
    """
    named = {name.lower(): value for name, value in headers.items()}
    message_id, timestamp_text = _identity(named)
    timestamp = int(timestamp_text)
    _check_freshness(timestamp, time.time() if now is None else now, tolerance)
    content = _signed_content(message_id, timestamp_text, body)
    if not _any_signature_matches(named.get(WEBHOOK_SIGNATURE, ""), content, secrets):
        raise WebhookSignatureInvalid("No webhook-signature matches a secret of this endpoint.")
    return VerifiedMessage(message_id=message_id, timestamp=timestamp, body=body)


def _identity(headers: Mapping[str, str]) -> tuple[str, str]:
    message_id = headers.get(WEBHOOK_ID, "")
    timestamp = headers.get(WEBHOOK_TIMESTAMP, "").strip()
    if not message_id:
        raise WebhookMalformed(f"The {WEBHOOK_ID} header is missing.")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookMalformed(f"The {WEBHOOK_TIMESTAMP} header is not Unix seconds.")
    return message_id, timestamp


def _check_freshness(timestamp: int, now: float, tolerance: timedelta) -> None:
    if abs(now - timestamp) > tolerance.total_seconds():
        raise WebhookTimestampOutsideTolerance(
            f"The {WEBHOOK_TIMESTAMP} is more than {int(tolerance.total_seconds())} s "
            "away from the receiver's clock."
        )


def _any_signature_matches(header: str, content: bytes, secrets: Sequence[WebhookSecret]) -> bool:
    expected = [_digest(secret, content) for secret in secrets]
    offered = [_decode(entry) for entry in header.split()]
    # compare_digest on equal-length digests: the time taken says nothing about the secret.
    return any(
        hmac.compare_digest(digest, candidate)
        for candidate in offered
        if candidate is not None
        for digest in expected
    )


def _decode(entry: str) -> bytes | None:
    version, _, signature = entry.partition(",")
    if version != _VERSION:
        return None  # another scheme (the specification's v1a), or noise: ignored, as it says
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None


def _signed_content(message_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def _digest(secret: WebhookSecret, content: bytes) -> bytes:
    return hmac.new(secret.key, content, hashlib.sha256).digest()


def _encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")
