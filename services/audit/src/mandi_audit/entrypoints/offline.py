"""`python -m mandi_audit verify export.jsonl --keys keys.json`: a partner checks an export
offline, with the file, the published key set and this package, and nothing running.

It needs no settings, database or network, so the service's command line dispatches `verify`
here before loading any. One line of output; exit status 0 verified, 1 not verified, 2 when the
files cannot be read or the key set is not one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mandi_audit.domain.checkpoints import public_keys_of
from mandi_audit.domain.exports import ExportCheck, format_timestamp, verify_export_lines

__all__ = ["EXIT_NOT_VERIFIED", "EXIT_UNUSABLE_INPUT", "EXIT_VERIFIED", "main", "verify_command"]

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_UNUSABLE_INPUT = 2


class _UnusableInput(Exception):
    """A file that cannot be read, or a key set that is not one; the message says which."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `verify` with its arguments (what follows `verify` on the command line: `EXPORT
    --keys KEYS`); the exit status."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has already said what was wrong, or printed --help
        return exit_.code if isinstance(exit_.code, int) else EXIT_UNUSABLE_INPUT
    return verify_command(arguments.export, arguments.keys)


def verify_command(export_path: Path, keys_path: Path) -> int:
    """Verifies the export at `export_path` with the JWKS at `keys_path`, prints the outcome in
    one line, and returns the exit status."""
    try:
        public_keys = _key_set_at(keys_path)
        check = _check_of_export_at(export_path, public_keys)
    except _UnusableInput as problem:
        sys.stderr.write(f"{problem}\n")
        return EXIT_UNUSABLE_INPUT
    sys.stdout.write(f"{_outcome(check)}\n")
    return EXIT_VERIFIED if check.ok else EXIT_NOT_VERIFIED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mandi_audit verify",
        description="Verify a partner export of the audit chain offline, against the key set.",
    )
    parser.add_argument("export", type=Path, help="the export (JSON Lines)")
    parser.add_argument("--keys", type=Path, required=True, help="the key set (JWKS JSON)")
    return parser


def _key_set_at(path: Path) -> dict[str, Ed25519PublicKey]:
    try:
        document = json.loads(path.read_bytes())
    except OSError as error:
        raise _UnusableInput(f"cannot read the key set {path}: {error.strerror or error}") from None
    except (ValueError, RecursionError):
        raise _UnusableInput(f"the key set {path} is not JSON") from None
    try:
        public_keys = public_keys_of(document)
    except ValueError as error:
        raise _UnusableInput(f"the key set {path} is not usable: {error}") from None
    if not public_keys:
        raise _UnusableInput(f"the key set {path} has no keys")
    return public_keys


def _check_of_export_at(path: Path, public_keys: dict[str, Ed25519PublicKey]) -> ExportCheck:
    try:
        with path.open("rb") as export:
            return verify_export_lines(export, public_keys)
    except OSError as error:
        raise _UnusableInput(f"cannot read the export {path}: {error.strerror or error}") from None


def _outcome(check: ExportCheck) -> str:
    if not check.ok:
        return f"NOT verified: line {check.line}: {check.reason}"
    header, checkpoint = check.header, check.checkpoint
    if header is None or checkpoint is None:  # a check that is ok has read both
        return "NOT verified: the export has no header or checkpoint"
    return (
        f"verified: tenant {header.tenant_id}, records {header.start_seq}..{checkpoint.seq} "
        f"({check.own_records} yours in full, {check.other_records} others as digests), "
        f"signed by {checkpoint.key_id} at {format_timestamp(checkpoint.signed_at)}"
    )
