"""Removes PII, secrets and tokens from log events before they are rendered.

Two nets. Values under sensitive keys are replaced whole, in nested mappings and sequences too.
Inside every string, values written as `key=value` or `"key": "value"` under a sensitive key,
passwords in URLs, JWTs, Mandi API keys, Bearer and Basic credentials, emails, GSTINs, PANs and
phone numbers are replaced. The patterns are bounded so UUIDs, timestamps, trace ids and
ordinary quantities survive; a bare ten-digit string starting with 6, 7, 8 or 9 reads as an
Indian mobile number and is redacted, while integers are never touched.

It runs on every string of every log line, so each pattern is anchored to be tried once per run
of characters (linear time, whatever the input), and runs only when a cheap substring test
says it could match.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from typing import Any

from structlog.typing import EventDict, WrappedLogger

__all__ = ["REDACTED", "is_sensitive_key", "redact", "redact_event", "redact_text"]

REDACTED = "[REDACTED]"

# Deeper values are rendered as text and scrubbed, so a cycle or a huge tree costs little.
_MAX_DEPTH = 8
_SENSITIVE_WORDS = (
    r"password|passwd|secret|token|api[_-]?key|authorization|cookie|private[_-]?key"
    r"|credential|session"
)
_SENSITIVE_KEY = re.compile(_SENSITIVE_WORDS, re.IGNORECASE)
_EXACT_KEYS = frozenset({"email", "phone", "mobile", "pan", "gstin", "tax_id", "taxid"})

# Strings of these shapes cannot hold anything below: ids, timestamps, and short words with no
# digit, separator, space, dot or "@" (an API key is longer than 40 characters). Most fields of
# a line are one of them, so they skip the scans.
_INERT = re.compile(
    r"[A-Za-z_/{}-]{0,40}|[0-9a-f]{16}|[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?",
    re.ASCII,
)
# A key is found first and its value read only when the key is sensitive, so the scan stays
# linear and a secret inside a harmless key's value is still found.
_KEY = re.compile(r"""(?<![\w-])(?P<key>[A-Za-z_][\w-]*+)\\?["']?\s*[:=]\s*""")
_VALUE = re.compile(
    r""" "(?:[^"\\]|\\.)*" | '[^'\n]*' | ["']?(?i:bearer\s+|basic\s+)?[^\s"',;&)}\]\\]+ """,
    re.VERBOSE,
)
_URL_PASSWORD = re.compile(r"(?P<user>://[^/\s:@]*):[^/\s@]+@")
_JWT = re.compile(r"(?<![\w-])eyJ[\w-]{2,}\.[\w-]{2,}\.[\w-]*", re.ASCII)
_API_KEY = re.compile(r"(?<![A-Za-z0-9])mandi_(?:live|test)_[A-Za-z0-9]{32,}")
_CREDENTIAL = re.compile(r"(?P<scheme>(?i:bearer|basic)[ \t]+)(?P<value>[A-Za-z0-9._~+/-]{8,}=*)")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_FOUR_DIGITS = re.compile(r"\d{4}", re.ASCII)  # every PAN, GSTIN and phone number has a run
_GSTIN = re.compile(r"\b\d{2}[A-Z]{5}\d{4}[A-Z][0-9A-Z]Z[0-9A-Z]\b", re.ASCII)
_PAN = re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b", re.ASCII)
_E164 = re.compile(r"(?<![\w+])\+[1-9]\d{7,14}(?!\d)", re.ASCII)
_INDIAN_PHONE = re.compile(
    r"(?<![\w+-])(?:(?:\+|00)?91[ -]?|0)?"
    r"(?:[6-9]\d{9}|[6-9]\d{4}[ -]\d{5}|[6-9]\d{2}[ -]\d{3}[ -]\d{4})(?![\w-])",
    re.ASCII,
)


@lru_cache(maxsize=4096)
def is_sensitive_key(key: str) -> bool:
    """Whether a value stored under this key is dropped whole, whatever it looks like."""
    return key.lower() in _EXACT_KEYS or _SENSITIVE_KEY.search(key) is not None


def redact_text(text: str) -> str:
    """The text with every recognised secret or PII value replaced by `[REDACTED:<kind>]`."""
    if _INERT.fullmatch(text):
        return text
    for could_match, scrub in _RULES:
        if could_match(text):
            text = scrub(text)
    return text


def redact(value: object) -> object:
    """A copy of a value with sensitive keys blanked and every string scrubbed, recursively."""
    return _redact(value, _MAX_DEPTH)


def redact_event(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The structlog processor: the last step before an event is rendered."""
    return _redact_mapping(event, _MAX_DEPTH)


def _redact_keyed_values(text: str) -> str:
    parts: list[str] = []
    done = 0
    for key in _KEY.finditer(text):
        if key.start() < done or not is_sensitive_key(key["key"]):
            continue
        value = _VALUE.match(text, key.end())
        if value is not None:
            parts += (text[done : key.end()], _blank(value[0]))
            done = value.end()
    return "".join((*parts, text[done:])) if parts else text


def _blank(value: str) -> str:
    # Keep the quotes, so a JSON or repr text stays readable.
    quote = value[0] if value[0] in "\"'" else ""
    return f"{quote}{REDACTED}{quote}"


def _credential(match: re.Match[str]) -> str:
    scheme, value = match["scheme"], match["value"]
    if scheme[:5].lower() == "basic" and not _is_basic_credential(value):
        return match[0]  # "basic checks passed" is prose, not a credential
    return f"{scheme}[REDACTED:credential]"


def _is_basic_credential(value: str) -> bool:
    try:
        return b":" in base64.b64decode(value, validate=True)
    except binascii.Error:
        return False


def _redact_numbers(text: str) -> str:
    # A GSTIN holds a PAN, and an E.164 number would otherwise be read as an Indian one.
    text = _GSTIN.sub("[REDACTED:gstin]", text)
    text = _PAN.sub("[REDACTED:pan]", text)
    text = _E164.sub("[REDACTED:phone]", text)
    return _INDIAN_PHONE.sub("[REDACTED:phone]", text)


def _has_separator(text: str) -> bool:
    return ":" in text or "=" in text


def _contains(fragment: str) -> Callable[[str], bool]:
    return lambda text: fragment in text


def _always(_text: str) -> bool:
    return True  # the scan for a scheme word costs about what a substring test would


# (could it match?, replace): keyed values first, since they may hold any of the others, and
# JWTs before credentials, since a JWT usually follows "Bearer ".
_RULES: tuple[tuple[Callable[[str], bool], Callable[[str], str]], ...] = (
    (_has_separator, _redact_keyed_values),
    (_contains("://"), partial(_URL_PASSWORD.sub, r"\g<user>:[REDACTED:password]@")),
    (_contains("eyJ"), partial(_JWT.sub, "[REDACTED:jwt]")),
    (_contains("mandi_"), partial(_API_KEY.sub, "[REDACTED:api_key]")),
    (_always, partial(_CREDENTIAL.sub, _credential)),
    (_contains("@"), partial(_EMAIL.sub, "[REDACTED:email]")),
    (lambda text: _FOUR_DIGITS.search(text) is not None, _redact_numbers),
)


def _redact(value: object, depth: int) -> object:
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode(errors="replace"))
    if depth > 0 and isinstance(value, Mapping):
        return _redact_mapping(value, depth - 1)
    if depth > 0 and isinstance(value, list | tuple | set | frozenset):
        return [_redact_item(item, depth - 1) for item in value]
    # What the JSON renderer would fall back to, scrubbed; repr shows `password='…'` as text.
    return redact_text(repr(value))


def _redact_mapping(mapping: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
    return {
        _redact_key(key): REDACTED if is_sensitive_key(str(key)) else _redact(value, depth)
        for key, value in mapping.items()
    }


def _redact_key(key: object) -> object:
    # Keys are data too (a dict of emails), and JSON only takes these as keys.
    if isinstance(key, str):
        return redact_text(key)
    if key is None or isinstance(key, bool | int | float):
        return key
    return redact_text(str(key))


def _redact_item(item: object, depth: int) -> object:
    # ASGI and HTTP clients keep headers as (name, value) pairs rather than mappings.
    if isinstance(item, tuple) and len(item) == 2 and _is_sensitive_name(item[0]):  # noqa: PLR2004 - a pair
        return [_redact(item[0], depth), REDACTED]
    return _redact(item, depth)


def _is_sensitive_name(name: object) -> bool:
    if isinstance(name, bytes):
        return is_sensitive_key(name.decode(errors="replace"))
    return isinstance(name, str) and is_sensitive_key(name)
