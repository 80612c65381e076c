"""Removes PII, secrets and tokens from log events before they are rendered.

Two nets: values under sensitive keys are dropped whole, and inside every string the patterns of
emails, phone numbers, PAN, GSTIN, JWTs, bearer credentials and Mandi API keys are replaced.
The patterns are bounded so UUIDs, timestamps, trace ids and ordinary quantities survive; a
bare ten-digit number starting with 6–9 reads as an Indian mobile number and is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "redact", "redact_event", "redact_text"]

REDACTED = "[REDACTED]"
_KEY_FRAGMENTS = (
    "password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "authorization",
    "cookie", "private_key", "credential", "session",
)
_EXACT_KEYS = frozenset({"email", "phone", "mobile", "pan", "gstin", "tax_id", "taxid"})

# Order matters: a GSTIN contains a PAN, a JWT would otherwise read as a bearer credential.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")),
    ("api_key", re.compile(r"\bmandi_(?:live|test)_[A-Za-z0-9]{32,}\b")),
    ("credential", re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]+|(?<=\bbasic )[A-Za-z0-9+/=]+")),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("gstin", re.compile(r"\b\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]\b")),
    ("pan", re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b")),
    ("phone", re.compile(r"(?<![\w+-])\+[1-9]\d{7,14}(?![\w-])")),
    ("phone", re.compile(r"(?<![\w+-])(?:\+91[\s-]?|0)?[6-9]\d{4}[\s-]?\d{5}(?![\w-])")),
)


def redact_text(text: str) -> str:
    """The text with every recognised PII or secret value replaced by `[REDACTED:<kind>]`."""
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[REDACTED:{kind}]", text)
    return text


def _sensitive(key: object) -> bool:
    name = str(key).lower()
    return name in _EXACT_KEYS or any(fragment in name for fragment in _KEY_FRAGMENTS)


def redact(value: object) -> object:
    """A copy of a value with sensitive keys blanked and every string scrubbed, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _sensitive(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(item) for item in value]
    if isinstance(value, bytes):
        return redact_text(value.decode(errors="replace"))
    return value


def redact_event(_logger: object, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """The structlog processor: the last step before an event is rendered."""
    return {k: REDACTED if _sensitive(k) else redact(v) for k, v in event.items()}
