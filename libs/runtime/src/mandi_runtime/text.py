"""Text an API accepts, declared in its OpenAPI document exactly as it is validated.

Each function gives the constraints of one kind of text, used as `Annotated[str, single_line(100)]`.

No request field takes a NUL or any other control character (PostgreSQL cannot store a NUL, and
a control character in a name or a note is never meant): such input is a 422, never a 500.
Each type says what it takes in a pattern, so a client generated from the document, and a
fuzzer reading it, know the constraint the API enforces.

The patterns avoid look-around: pydantic checks them with Rust's regex engine, clients and
fuzzers with theirs, and the plain character classes used here mean the same in each.
"""

from __future__ import annotations

from pydantic import StringConstraints

__all__ = [
    "CONTROL_CHARACTERS",
    "email_address",
    "multi_line",
    "no_controls",
    "phone_number",
    "single_line",
    "visible_ascii",
]

# C0 controls, DEL and C1 controls.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"
# The same but tab, line feed and carriage return, which a multi-line text may hold.
_CONTROLS_BUT_LINE_BREAKS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_ANY_BUT = "[^{}]*"
_VISIBLE = rf"[^\s{CONTROL_CHARACTERS}]"  # a character that is neither a control nor a space


def single_line(max_length: int) -> StringConstraints:
    """A name or a label: no control character, at least one character that is not a space."""
    others = _ANY_BUT.format(CONTROL_CHARACTERS)
    return StringConstraints(
        min_length=1, max_length=max_length, pattern=f"^{others}{_VISIBLE}{others}$"
    )


def multi_line(max_length: int) -> StringConstraints:
    """An address or a note: lines of text, not blank, no other control character."""
    others = _ANY_BUT.format(_CONTROLS_BUT_LINE_BREAKS)
    return StringConstraints(
        min_length=1, max_length=max_length, pattern=f"^{others}{_VISIBLE}{others}$"
    )


def visible_ascii(max_length: int, *, min_length: int = 1) -> StringConstraints:
    """A token made by a machine (a refresh token, a cursor): printable ASCII only."""
    return StringConstraints(
        min_length=min_length, max_length=max_length, pattern=r"^[\x21-\x7e]*$"
    )


def email_address() -> StringConstraints:
    """An email as the domain checks it: one @, a dot in the domain, no space or control."""
    part = rf"[^@\s{CONTROL_CHARACTERS}]"
    return StringConstraints(
        min_length=6, max_length=254, pattern=rf"^{part}{{1,64}}@{part}+\.{part}{{2,}}$"
    )


def phone_number() -> StringConstraints:
    """A phone number: an optional +, then 6 to 15 digits, spaced by ( ) . - as people write."""
    gap = r"[ ().-]*"
    pattern = rf"^{gap}\+?(?:{gap}[0-9]){{6,15}}{gap}$"
    return StringConstraints(min_length=6, max_length=32, pattern=pattern)


def no_controls(max_length: int, *, min_length: int = 1) -> StringConstraints:
    """Text of any characters a person types (a password, a search), but no control character."""
    pattern = f"^{_ANY_BUT.format(CONTROL_CHARACTERS)}$"
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
