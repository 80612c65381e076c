"""Partner exports: written and verified offline; no changed, missing or extra byte passes;
others' records stay digests; the `verify` command's answers and exit statuses."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from mandi_audit.domain.chain import GENESIS_HASH, AuditEntry, link_hash, payload_digest
from mandi_audit.domain.checkpoints import CheckpointSigner, jwk_of, public_keys_of
from mandi_audit.domain.exports import (
    ExportHeader,
    ExportWriter,
    canonical_line,
    checkpoint_line,
    digest_line,
    format_timestamp,
    header_line,
    own_record_line,
    parse_timestamp,
    verify_export,
)
from mandi_audit.domain.verification import PAYLOAD_ALTERED
from mandi_audit.entrypoints.offline import main

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "chain-v1.json").read_text(encoding="utf-8")
)
TENANT = UUID("6f1d3c2a-9b84-4e57-a0c1-5d2e8f7b3a90")
OTHER_TENANT = UUID("c3a8e5f1-2d4b-4a69-8e17-0f9b6d2c4e83")
PARTNER = UUID("8d2b4f6a-1c3e-4a5b-9d7f-2e4c6a8b0d13")
WINDOW_START = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 3, 2, tzinfo=UTC)
SIGNED_AT = datetime(2026, 3, 2, 0, 0, 0, 250, tzinfo=UTC)
# Two keys: the checkpoint below may be signed before a rotation, the export after it.
SIGNER = CheckpointSigner({"audit-2026-01": bytes(range(32)), "audit-2026-02": bytes(range(1, 33))})
PUBLIC_KEYS = public_keys_of(
    {"keys": [jwk_of(key_id, raw) for key_id, raw in SIGNER.public_keys().items()]}
)
# Records 1..8; the export covers 2..8, so a record's line number is its seq.
OWN_SEQS = frozenset({2, 3, 6, 8})
TEXT_FIELDS = ("event_id", "type", "source", "aggregate", "actor", "correlation_id")


@dataclass(frozen=True)
class Stored:
    """A record as the audit table holds it."""

    entry: AuditEntry
    payload: bytes
    prev_hash: bytes
    hash: bytes


def payload_of(seq: int) -> bytes:
    owner = "yours" if seq in OWN_SEQS else f"SECRET-OF-ANOTHER-PARTNER-{seq}"
    return json.dumps({"seq": seq, "owner": owner, "city": "Nāgpur"}, ensure_ascii=False).encode()


def entry_of(seq: int, **changes: Any) -> AuditEntry:
    entry = AuditEntry(
        tenant_id=TENANT,
        seq=seq,
        event_id=f"event-{seq}",
        type="mandi.trade.settled.v1",
        source="mandi.matching",
        aggregate=f"trade:{seq}",
        actor="user:Zoë Müller" if seq == 3 else "",
        occurred_at=WINDOW_START + timedelta(hours=seq),
        correlation_id="" if seq == 6 else f"corr-मंडी-{seq}",
        payload_digest=payload_digest(payload_of(seq)),
    )
    return replace(entry, **changes)


def stored_chain(
    entries: Sequence[AuditEntry],
    prev_hash: bytes = GENESIS_HASH,
    payloads: dict[int, bytes] | None = None,
) -> list[Stored]:
    """Records as ingestion chains them; `payloads` replaces what is stored for some seqs."""
    chain = []
    for entry in entries:
        chain_hash = link_hash(prev_hash, entry.digest())
        payload = (payloads or {}).get(entry.seq, payload_of(entry.seq))
        chain.append(Stored(entry, payload, prev_hash, chain_hash))
        prev_hash = chain_hash
    return chain


def default_chain() -> list[Stored]:
    return stored_chain([entry_of(seq) for seq in range(1, 9)])


def write_export(
    chain: Sequence[Stored],
    *,
    start_seq: int = 2,
    window: tuple[datetime, datetime] = (WINDOW_START, WINDOW_END),
    checkpoint_seq: int | None = None,
    checkpoint_tenant: UUID | None = None,
    checkpoint_signer: CheckpointSigner = SIGNER,
    export_signer: CheckpointSigner = SIGNER,
) -> bytes:
    """An export as the service writes it, of `chain` from `start_seq` to its end."""
    segment = [stored for stored in chain if stored.entry.seq >= start_seq]
    writer = ExportWriter()
    header = ExportHeader(TENANT, PARTNER, *window, start_seq, segment[0].prev_hash)
    lines = [writer.add(header_line(header))]
    lines.extend(writer.add(record_line(stored)) for stored in segment)
    signed = next(s for s in chain if s.entry.seq == (checkpoint_seq or chain[-1].entry.seq))
    checkpoint = checkpoint_signer.sign(
        checkpoint_tenant or TENANT, signed.entry.seq, signed.hash, SIGNED_AT
    )
    lines.append(writer.add(checkpoint_line(checkpoint)))
    lines.append(writer.signature_line(export_signer.sign_bytes))
    return b"".join(lines)


def record_line(stored: Stored) -> bytes:
    if stored.entry.seq in OWN_SEQS:
        return own_record_line(stored.entry, stored.payload, stored.prev_hash, stored.hash)
    return digest_line(stored.entry.seq, stored.entry.digest(), stored.hash)


def lines_of(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


Edit = Callable[[list[bytes]], list[bytes]]


def resigned(data: bytes, edit: Edit) -> bytes:
    """The export with its lines edited and signed again, as a forger holding the key would:
    what then fails is the check of the form or the chain, not the export's signature."""
    writer = ExportWriter()
    lines = [writer.add(line) for line in edit(lines_of(data)[:-1])]
    return b"".join([*lines, writer.signature_line(SIGNER.sign_bytes)])


def with_value(number: int, change: Callable[[dict[str, Any]], None]) -> Edit:
    """An edit of line `number`'s value, written back in canonical form."""

    def edit(lines: list[bytes]) -> list[bytes]:
        value = json.loads(lines[number - 1])
        change(value)
        lines[number - 1] = canonical_line(value)
        return lines

    return edit


def with_text(number: int, write: Callable[[dict[str, Any]], str]) -> Edit:
    """An edit of line `number` written some other way than canonically."""

    def edit(lines: list[bytes]) -> list[bytes]:
        lines[number - 1] = (write(json.loads(lines[number - 1])) + "\n").encode()
        return lines

    return edit


EXPORT = write_export(default_chain())


# An export that verifies


def test_an_export_verifies_and_says_what_it_holds():
    check = verify_export(EXPORT, PUBLIC_KEYS)
    assert check.ok, check.reason
    assert (check.line, check.reason) == (None, None)
    assert (check.own_records, check.other_records) == (4, 3)
    assert check.checkpoint_seq == 8
    assert check.header is not None
    assert check.header.tenant_id == TENANT
    assert check.header.partner_id == PARTNER
    assert check.header.start_seq == 2
    assert len(lines_of(EXPORT)) == 10


def test_an_export_from_the_chains_first_record_verifies():
    check = verify_export(write_export(default_chain(), start_seq=1), PUBLIC_KEYS)
    assert check.ok, check.reason
    assert (check.own_records, check.other_records) == (4, 4)


def test_the_vector_export_verifies_and_the_writer_reproduces_it():
    vector = VECTORS["exports"][0]
    data = vector["text"].encode()
    check = verify_export(data, public_keys_of(vector["keys"]))
    assert check.ok, check.reason
    assert (check.own_records, check.other_records, check.checkpoint_seq) == (2, 1, 3)
    assert write_vector_export() == data


def write_vector_export() -> bytes:
    records, checkpoint = VECTORS["records"][:3], VECTORS["checkpoints"][0]
    signer = CheckpointSigner({checkpoint["key_id"]: bytes.fromhex(checkpoint["seed_hex"])})
    writer = ExportWriter()
    header = ExportHeader(
        tenant_id=TENANT,
        partner_id=PARTNER,
        window_start=parse_timestamp("2026-03-01T00:00:00.000000Z"),
        window_end=parse_timestamp("2026-03-03T00:00:00.000000Z"),
        start_seq=1,
        prev_hash=GENESIS_HASH,
    )
    lines = [writer.add(header_line(header))]
    lines.extend(
        writer.add(vector_record_line(vector, own=vector["seq"] in {1, 3})) for vector in records
    )
    signed = signer.sign(
        TENANT, 3, bytes.fromhex(checkpoint["hash"]), parse_timestamp(checkpoint["signed_at"])
    )
    lines.append(writer.add(checkpoint_line(signed)))
    lines.append(writer.signature_line(signer.sign_bytes))
    return b"".join(lines)


def vector_record_line(vector: dict[str, Any], *, own: bool) -> bytes:
    chain_hash = bytes.fromhex(vector["hash"])
    if not own:
        return digest_line(vector["seq"], bytes.fromhex(vector["record_digest"]), chain_hash)
    payload = bytes.fromhex(vector["payload_hex"])
    texts = {field: vector[field] for field in TEXT_FIELDS}
    occurred_at = parse_timestamp(vector["occurred_at"])
    entry = AuditEntry(
        tenant_id=TENANT,
        seq=vector["seq"],
        occurred_at=occurred_at,
        payload_digest=payload_digest(payload),
        **texts,
    )
    return own_record_line(entry, payload, bytes.fromhex(vector["prev_hash"]), chain_hash)


def test_others_records_are_digests_only_and_their_payloads_never_appear():
    assert b"SECRET" not in EXPORT
    for seq in range(2, 9):
        encoded = base64.b64encode(payload_of(seq))
        assert (encoded in EXPORT) == (seq in OWN_SEQS)
        assert (b'"event_id":"event-%d"' % seq in EXPORT) == (seq in OWN_SEQS)
    assert all(line.startswith(b'{"digest":') for line in lines_of(EXPORT)[3:5])


def test_a_checkpoint_signed_before_a_rotation_verifies_with_the_published_set():
    before = CheckpointSigner({"audit-2026-01": bytes(range(32))})
    data = write_export(default_chain(), checkpoint_signer=before)
    assert b'"key_id":"audit-2026-01"' in data
    assert b'"key_id":"audit-2026-02"' in data
    assert verify_export(data, PUBLIC_KEYS).ok


# Any change fails


def positions_still_verifying(data: bytes, replacement_of: Callable[[int, int], int]) -> list[int]:
    """Positions at which replacing the byte leaves an export that still verifies."""
    passed = []
    for position, byte in enumerate(data):
        altered = bytearray(data)
        altered[position] = replacement_of(position, byte)
        if altered != data and verify_export(bytes(altered), PUBLIC_KEYS).ok:
            passed.append(position)
    return passed


def test_flipping_any_bit_0_of_any_byte_fails():
    assert positions_still_verifying(EXPORT, lambda _, byte: byte ^ 0x01) == []


@pytest.mark.parametrize("replacement", list(b'0af9AZ-_+= ":'), ids=chr)
def test_replacing_any_byte_with_another_printable_one_fails(replacement):
    def replacement_of(_: int, byte: int) -> int:
        return replacement if byte != replacement else replacement ^ 0x02

    assert positions_still_verifying(EXPORT, replacement_of) == []


@pytest.mark.parametrize("number", range(1, 11))
def test_removing_any_line_fails(number):
    lines = lines_of(EXPORT)
    check = verify_export(b"".join(lines[: number - 1] + lines[number:]), PUBLIC_KEYS)
    assert not check.ok
    assert check.line is not None
    assert check.line <= number


@pytest.mark.parametrize("number", range(1, 10))
def test_swapping_any_two_adjacent_lines_fails(number):
    lines = lines_of(EXPORT)
    lines[number - 1], lines[number] = lines[number], lines[number - 1]
    assert not verify_export(b"".join(lines), PUBLIC_KEYS).ok


@pytest.mark.parametrize("number", range(1, 11))
def test_repeating_any_line_fails(number):
    lines = lines_of(EXPORT)
    lines.insert(number, lines[number - 1])
    assert not verify_export(b"".join(lines), PUBLIC_KEYS).ok


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", 1, "the export is empty"),
        (EXPORT[:-1], 10, "does not end with a newline"),
        (EXPORT + b"\n", 11, "not a line of UTF-8 JSON"),
        (EXPORT + lines_of(EXPORT)[-1], 11, "nothing may follow"),
        (b"".join(lines_of(EXPORT)[:-1]), 10, "ends before its signature"),
        (EXPORT.replace(b"\n", b"\r\n"), 1, "canonical form"),
    ],
    ids=["empty", "no final newline", "blank line", "line after", "unsigned", "CRLF"],
)
def test_a_truncated_or_extended_file_fails_at_the_right_line(data, line, reason):
    check = verify_export(data, PUBLIC_KEYS)
    assert not check.ok
    assert check.line == line
    assert check.reason is not None
    assert reason in check.reason


@pytest.mark.parametrize(
    "hostile",
    [
        b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n",
        b'{"a":"\\ud800"}\n',
        b'{"a":' + b"9" * 5000 + b"}\n",
        b'{"a":NaN}\n',
        b"\xff\xfe\n",
    ],
    ids=["deep nesting", "lone surrogate", "huge number", "NaN", "not UTF-8"],
)
@pytest.mark.parametrize("number", [1, 2])
def test_a_hostile_line_is_refused_not_raised(hostile, number):
    lines = lines_of(EXPORT)
    lines.insert(number - 1, hostile)
    check = verify_export(b"".join(lines), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, number)


# Even with the export signed again, only the one form and an intact chain pass


def hex_upper(value: dict[str, Any]) -> None:
    value["hash"] = value["hash"].upper()


def payload_padding_bits_set(value: dict[str, Any]) -> None:
    payload = value["record"]["payload"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = payload.rstrip("=")[-1]
    assert payload.endswith("="), "a payload whose base64 has padding bits"
    value["record"]["payload"] = payload.replace(
        last + "=", alphabet[alphabet.index(last) ^ 1] + "=", 1
    )


def occurred_at_as(text: str) -> Callable[[dict[str, Any]], None]:
    def change(value: dict[str, Any]) -> None:
        value["record"]["occurred_at"] = text

    return change


def json_with(**options: Any) -> Callable[[dict[str, Any]], str]:
    def write(value: dict[str, Any]) -> str:
        settings = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
        return json.dumps(value, **{**settings, **options})

    return write


def reversed_keys(value: dict[str, Any]) -> str:
    return json_with(sort_keys=False)(dict(reversed(value.items())))


@pytest.mark.parametrize(
    ("edit", "line", "reason"),
    [
        (with_value(4, hex_upper), 4, "64 lowercase hex"),
        (with_text(3, json_with(separators=(", ", ": "))), 3, "canonical form"),
        (with_text(3, json_with(ensure_ascii=True)), 3, "canonical form"),
        (with_text(2, reversed_keys), 2, "canonical form"),
        (with_value(2, occurred_at_as("2026-03-01T02:00:00.000000+00:00")), 2, "occurred_at"),
        (with_value(2, occurred_at_as("2026-03-01T02:00:00.000Z")), 2, "occurred_at"),
        (with_value(2, occurred_at_as("2026-03-01t02:00:00.000000z")), 2, "occurred_at"),
        (with_value(2, payload_padding_bits_set), 2, "canonical base64"),
        (with_value(2, lambda value: value["record"].update(note="x")), 2, "not the fields"),
        (with_value(2, lambda value: value["record"].pop("actor")), 2, "not the fields"),
        (with_value(4, lambda value: value.update(prev_hash=value["hash"])), 4, "not the fields"),
        (with_value(4, lambda value: value.update(seq=True)), 4, "not a seq"),
        (with_value(4, lambda value: value.update(seq=4.0)), 4, "not a seq"),
        (with_value(4, lambda value: value.update(seq=2**64 + 4)), 4, "not a seq"),
        (with_value(1, lambda value: value.update(tenant_id=str(TENANT).upper())), 1, "UUID"),
        (with_value(1, lambda value: value.update(format="mandi-audit-export/2")), 1, "format"),
        (with_value(1, lambda value: value.update(start_seq=3)), 2, "expected seq 3, found 2"),
        (with_value(9, lambda value: value["checkpoint"].update(seq=7)), 9, "signature"),
        (with_value(9, lambda value: value.update(extra=1)), 9, "not the fields"),
    ],
)
def test_an_export_signed_again_still_fails_on_the_first_thing_out_of_form(edit, line, reason):
    check = verify_export(resigned(EXPORT, edit), PUBLIC_KEYS)
    assert not check.ok
    assert (check.line, reason in (check.reason or "")) == (line, True), check.reason


def test_a_record_given_as_a_digest_for_one_given_in_full_is_caught_by_the_signature():
    lines = lines_of(EXPORT)
    stored = default_chain()[1]
    lines[1] = digest_line(2, stored.entry.digest(), stored.hash)
    check = verify_export(b"".join(lines), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 10)
    assert "export's signature does not verify" in (check.reason or "")


def test_an_edited_record_breaks_the_chain_at_its_line():
    lines = lines_of(EXPORT)
    lines[2] = lines[2].replace("Zoë".encode(), b"Zoe")
    check = verify_export(b"".join(lines), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 3)
    assert check.reason == "seq 3: the hash does not match the record's contents"


def test_an_altered_payload_is_reported_as_such():
    altered = payload_of(6).replace(b"yours", b"YOURS")
    chain = stored_chain([entry_of(seq) for seq in range(1, 9)], payloads={6: altered})
    check = verify_export(write_export(chain), PUBLIC_KEYS)
    assert (check.ok, check.line, check.reason) == (False, 6, f"seq 6: {PAYLOAD_ALTERED}")


def test_a_tail_rewritten_after_the_checkpoint_was_signed_fails():
    original = default_chain()
    rewritten = original[:4] + stored_chain(
        [entry_of(5, actor="user:mallory"), *(entry_of(seq) for seq in range(6, 9))],
        prev_hash=original[3].hash,
    )
    signed_first = CheckpointSigner({"audit-2026-02": bytes(range(1, 33))}).sign(
        TENANT, 8, original[-1].hash, SIGNED_AT
    )
    data = resigned(
        write_export(rewritten),
        lambda lines: [*lines[:-1], checkpoint_line(signed_first)],
    )
    check = verify_export(data, PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 9)
    assert check.reason == "the chain's hash at seq 8 is not the checkpoint's"


@pytest.mark.parametrize(
    ("moment", "ok"),
    [
        (WINDOW_START, True),
        (WINDOW_END - timedelta(microseconds=1), True),
        (WINDOW_START - timedelta(microseconds=1), False),
        (WINDOW_END, False),
    ],
)
def test_a_record_of_yours_lies_within_the_window(moment, ok):
    chain = stored_chain(
        [entry_of(seq, occurred_at=moment) if seq == 6 else entry_of(seq) for seq in range(1, 9)]
    )
    check = verify_export(write_export(chain), PUBLIC_KEYS)
    assert check.ok == ok
    if not ok:
        assert (check.line, check.reason) == (
            6,
            "the record's occurred_at is outside the export's window [from, to)",
        )


def test_a_window_that_ends_before_it_starts_fails():
    data = write_export(default_chain(), window=(WINDOW_END, WINDOW_START))
    check = verify_export(data, PUBLIC_KEYS)
    assert (check.ok, check.line, check.reason) == (False, 1, "the window ends before it starts")


def test_a_chain_from_seq_1_starts_from_the_genesis_hash():
    forged_start = stored_chain([entry_of(seq) for seq in range(1, 9)], prev_hash=bytes([7]) * 32)
    check = verify_export(write_export(forged_start, start_seq=1), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 1)
    assert "64 zeros" in (check.reason or "")


def test_a_checkpoint_of_another_tenant_fails():
    check = verify_export(
        write_export(default_chain(), checkpoint_tenant=OTHER_TENANT), PUBLIC_KEYS
    )
    assert (check.ok, check.line) == (False, 9)
    assert f"tenant {OTHER_TENANT}" in (check.reason or "")


def test_a_checkpoint_short_of_the_last_record_fails():
    check = verify_export(write_export(default_chain(), checkpoint_seq=7), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 9)
    assert check.reason == "the records end at seq 8, the checkpoint is at 7"


def test_a_key_missing_from_the_key_set_fails():
    before = CheckpointSigner({"audit-2026-01": bytes(range(32))})
    only_old = {"audit-2026-01": PUBLIC_KEYS["audit-2026-01"]}

    check = verify_export(write_export(default_chain(), checkpoint_signer=before), only_old)
    assert (check.ok, check.line) == (False, 10)
    assert check.reason == "the export's key 'audit-2026-02' is not in the key set"

    check = verify_export(EXPORT, {})
    assert (check.ok, check.line) == (False, 9)
    assert check.reason == "the checkpoint's key 'audit-2026-02' is not in the key set"


def test_a_signature_by_another_key_of_a_published_id_fails():
    stranger = CheckpointSigner({"audit-2026-02": bytes(range(50, 82))})

    check = verify_export(write_export(default_chain(), checkpoint_signer=stranger), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 9)
    assert check.reason == "the checkpoint's signature does not verify"

    check = verify_export(write_export(default_chain(), export_signer=stranger), PUBLIC_KEYS)
    assert (check.ok, check.line) == (False, 10)
    assert check.reason == "the export's signature does not verify (the file changed)"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 14, 45, 30, 123456, tzinfo=UTC),
    ],
)
def test_times_are_written_in_one_form_and_read_back_exactly(moment):
    text = format_timestamp(moment)
    assert len(text) == 27
    assert text.endswith("Z")
    assert parse_timestamp(text) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T09:15:30.123456",
        "2026-03-01T09:15:30Z",
        "2026-03-01 09:15:30.123456Z",
        "2026-03-01T09:15:30.123456+00:00",
        "2026-02-30T09:15:30.123456Z",
        "2026-03-01T09:15:30.1234567Z",
        "2026-03-01T09:15:30.123456Z ",
    ],
)
def test_any_other_form_of_a_time_is_refused(text):
    with pytest.raises(ValueError, match=r"is not a time|is not in the form"):
        parse_timestamp(text)


# The offline command


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    keys = {"keys": [jwk_of(key_id, raw) for key_id, raw in SIGNER.public_keys().items()]}
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    (tmp_path / "export.jsonl").write_bytes(EXPORT)
    return {"export": tmp_path / "export.jsonl", "keys": tmp_path / "keys.json"}


def run(arguments: list[str | Path], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_command_verifies_an_export(files, capsys):
    status, out, err = run([files["export"], "--keys", files["keys"]], capsys)
    assert status == 0
    assert out == (
        f"verified: tenant {TENANT}, records 2..8 (4 yours in full, 3 others as digests), "
        "signed by audit-2026-02 at 2026-03-02T00:00:00.000250Z\n"
    )
    assert err == ""


def test_the_command_verifies_the_vector_export(tmp_path, capsys):
    vector = VECTORS["exports"][0]
    (tmp_path / "export.jsonl").write_text(vector["text"], encoding="utf-8")
    (tmp_path / "keys.json").write_text(json.dumps(vector["keys"]))
    status, out, _ = run([tmp_path / "export.jsonl", "--keys", tmp_path / "keys.json"], capsys)
    assert status == 0
    assert out.startswith(f"verified: tenant {TENANT}, records 1..3 (2 yours in full, 1 others")


def test_the_command_says_which_line_of_a_tampered_export_fails(files, capsys):
    files["export"].write_bytes(EXPORT.replace(b"event-6", b"event-7"))
    status, out, err = run([files["export"], "--keys", files["keys"]], capsys)
    assert status == 1
    assert out == "NOT verified: line 6: seq 6: the hash does not match the record's contents\n"
    assert err == ""


@pytest.mark.parametrize(
    ("keys_text", "message"),
    [
        (None, "cannot read the key set"),
        ("{not json", "is not JSON"),
        ('{"keys": [{"kty": "RSA"}]}', "is not usable: every key is an OKP key on Ed25519"),
        ('{"keys": []}', "has no keys"),
    ],
    ids=["missing", "not JSON", "not Ed25519", "empty"],
)
def test_an_unusable_key_set_exits_2_with_one_line(files, capsys, keys_text, message):
    if keys_text is None:
        files["keys"].unlink()
    else:
        files["keys"].write_text(keys_text)
    status, out, err = run([files["export"], "--keys", files["keys"]], capsys)
    assert status == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_an_unreadable_export_exits_2_with_one_line(files, capsys):
    for export in (files["export"].with_name("missing.jsonl"), files["export"].parent):
        status, out, err = run([export, "--keys", files["keys"]], capsys)
        assert status == 2
        assert out == ""
        assert err.startswith(f"cannot read the export {export}: ")
        assert err.count("\n") == 1


def test_a_command_line_without_the_key_set_exits_2(files, capsys):
    status, out, err = run([files["export"]], capsys)
    assert status == 2
    assert out == ""
    assert "--keys" in err


def test_a_partner_runs_the_verifier_as_documented(tmp_path):
    vector = VECTORS["exports"][0]
    (tmp_path / "export.jsonl").write_text(vector["text"], encoding="utf-8")
    (tmp_path / "keys.json").write_text(json.dumps(vector["keys"]))
    command = [sys.executable, "-m", "mandi_audit", "verify", "export.jsonl", "--keys", "keys.json"]
    finished = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert (finished.returncode, finished.stderr) == (0, "")
    assert finished.stdout.startswith("verified: tenant 6f1d3c2a-9b84-4e57-a0c1-5d2e8f7b3a90, ")
