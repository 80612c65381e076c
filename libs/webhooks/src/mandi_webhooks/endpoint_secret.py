"""Endpoint secrets in the Standard Webhooks format: `whsec_` and the base64 of 24 to 64 bytes."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field

from mandi_errors import InvalidInput

__all__ = [
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "MalformedWebhookSecret",
    "WebhookSecret",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
# The specification's bounds: 192 bits at least, 512 at most.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
_GENERATED_BYTES = 32


class MalformedWebhookSecret(InvalidInput):
    """A webhook secret that is not `whsec_` and the base64 of 24 to 64 bytes."""

    type_slug = "webhook-secret-malformed"
    title = "Malformed webhook secret"


@dataclass(frozen=True)
class WebhookSecret:
    """The key an endpoint's deliveries are signed with; it never shows itself in a repr."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not MIN_SECRET_BYTES <= len(self.key) <= MAX_SECRET_BYTES:
            raise MalformedWebhookSecret(
                f"A webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, "
                f"not {len(self.key)}."
            )

    @classmethod
    def generate(cls, size: int = _GENERATED_BYTES) -> WebhookSecret:
        """A new secret of `size` random bytes from the operating system's generator."""
        return cls(secrets.token_bytes(size))

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """The secret written as `whsec_<base64>`; anything else is refused, never guessed at."""
        if not text.startswith(SECRET_PREFIX):
            raise MalformedWebhookSecret(f"A webhook secret starts with {SECRET_PREFIX!r}.")
        try:
            key = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedWebhookSecret(
                f"A webhook secret is {SECRET_PREFIX!r} and padded standard base64."
            ) from None
        return cls(key)

    def reveal(self) -> str:
        """The secret as `whsec_<base64>`, to give the endpoint's owner or to seal for storage."""
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")
