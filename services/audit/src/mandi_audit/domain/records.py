"""What the journal records of an event, and how a batch of them joins the tenants' chains.

Who did it (`actor`) and whom it concerns (`parties`) are read from the payload as produced:
the actor is the principal a `*_by` field names (`approved_by`, `changed_by`...), or else the
service that produced the event (a sweep, a saga step); the parties are the partners its
`partner_id`, `buyer_id`, `seller_id` or `counterparty_id` name. A partner's export holds in
full exactly the records it is a party to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson

from mandi_audit.domain.chain import GENESIS_HASH, link_hash, micros_of, record_digest

__all__ = [
    "PARTY_FIELDS",
    "PLATFORM_TENANT",
    "ChainHead",
    "Incoming",
    "Linked",
    "Unrecordable",
    "describe",
    "link_all",
]

# The chain of events that name no tenant (none is expected; none is dropped either).
PLATFORM_TENANT = UUID(int=0)
PARTY_FIELDS = ("partner_id", "buyer_id", "seller_id", "counterparty_id")
# `*_by` fields that name no principal: a reservation's holder is a trade or a requirement.
_NOT_ACTORS = frozenset({"reserved_by"})
_MAX_ID_LENGTH = 200
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Unrecordable(ValueError):
    """An event the journal can never record (its reason goes with it to the dead letters)."""


@dataclass(slots=True)  # not frozen: a frozen dataclass costs twice as much to make, per event
class Incoming:
    """One event as the journal records it, before it has a place in its tenant's chain."""

    tenant_id: UUID
    event_id: str
    type: str
    source: str
    aggregate: str
    actor: str
    occurred_at: datetime
    correlation_id: str
    payload: bytes
    payload_digest: bytes
    parties: tuple[str, ...]  # canonical UUIDs (lower case, hyphenated)

    @staticmethod
    def tenant_named(text: str | None) -> UUID:
        """The chain an envelope's tenant names: the platform's when none is named."""
        if not text:
            return PLATFORM_TENANT
        return _tenant(text)

    @staticmethod
    def checked_id(event_id: str) -> str:
        """The event's id, which the journal keeps once."""
        if not event_id or len(event_id) > _MAX_ID_LENGTH:
            raise Unrecordable(f"an event id is 1 to {_MAX_ID_LENGTH} characters")
        return event_id


@lru_cache(maxsize=4096)  # a few tenants name most events: each parsed once
def _tenant(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError as error:
        raise Unrecordable(f"the tenant {text[:60]!r} is not a UUID") from error


def describe(payload: bytes, source: str) -> tuple[str, tuple[str, ...]]:
    """The actor and the parties of an event, from its payload (see the module's docstring)."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return source, ()
    if not isinstance(data, dict):
        return source, ()
    return _actor(data) or source, _parties(data)


def _actor(data: Mapping[str, Any]) -> str | None:
    for name, value in data.items():
        if name.endswith("_by") and name not in _NOT_ACTORS and isinstance(value, str) and value:
            return value
    return None


def _parties(data: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for name in PARTY_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and _UUID.fullmatch(value):
            party = value.lower()
            if party not in found:
                found.append(party)
    return tuple(found)


@dataclass(slots=True)
class ChainHead:
    """Where a tenant's chain ends: its last seq and hash (0 and the genesis hash when empty)."""

    seq: int = 0
    hash: bytes = GENESIS_HASH


@dataclass(slots=True)
class Linked:
    """An event with its place in its tenant's chain."""

    record: Incoming
    seq: int
    prev_hash: bytes
    hash: bytes


def link_all(records: Sequence[Incoming], heads: Mapping[UUID, ChainHead]) -> Iterator[Linked]:
    """Appends each record to its tenant's chain in the given order, moving the heads along."""
    tenant_bytes = {tenant: tenant.bytes for tenant in heads}  # UUID.bytes is computed anew
    for record in records:
        head = heads[record.tenant_id]
        seq = head.seq + 1
        digest = record_digest(
            tenant_bytes[record.tenant_id],
            seq,
            micros_of(record.occurred_at),
            record.payload_digest,
            (
                record.event_id,
                record.type,
                record.source,
                record.aggregate,
                record.actor,
                record.correlation_id,
            ),
        )
        chained = link_hash(head.hash, digest)
        yield Linked(record, seq, head.hash, chained)
        head.seq, head.hash = seq, chained
