"""Appending a poll of events to the tenants' chains, in one transaction, exactly once.

Events already in the log (a poll read again after a crash or a rebalance) and repeats within
the poll are left out, so a redelivered batch appends nothing. A tenant's head is signed in
the same transaction once `checkpoint_every_records` have joined it since its last signature;
the timed checkpoints are `checkpoints.sign_due`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from mandi_audit.domain.chain import payload_digest
from mandi_audit.domain.checkpoints import Checkpoint, CheckpointSigner
from mandi_audit.domain.records import ChainHead, Incoming, Linked, Unrecordable, describe, link_all
from mandi_audit.service_layer.metrics import CHECKPOINTS_SIGNED, JOURNAL_APPENDED
from mandi_messaging import ReceivedEvent, Rejected

__all__ = ["AlreadyRecorded", "Journal", "JournalWriter", "incoming_of"]

# Events prepared between two turns of the event loop (see `JournalWriter.write`).
_EVENTS_BETWEEN_YIELDS = 500


class AlreadyRecorded(Exception):
    """The log holds an event of the batch already (its id is unique): nothing was appended."""


class Journal(Protocol):
    """The writer's transaction (adapters/journal.py)."""

    async def known(self, event_ids: Sequence[str]) -> set[str]: ...

    async def heads_locked(self, tenants: Sequence[UUID]) -> dict[UUID, tuple[ChainHead, int]]: ...

    async def append(self, linked: Sequence[Linked], recorded_at: datetime) -> None:
        """Raises AlreadyRecorded if the log holds one of these events already."""

    async def add_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> None: ...

    async def move_chains(
        self, heads: dict[UUID, ChainHead], signed: dict[UUID, int], now: datetime
    ) -> None: ...

    async def commit(self) -> None: ...


@dataclass(frozen=True)
class JournalWriter:
    """Appends polls of events to the log (the journal consumer group's handler calls it)."""

    transaction: Callable[[], AbstractAsyncContextManager[Journal]]
    signer: CheckpointSigner
    now: Callable[[], datetime]
    checkpoint_every: int
    # Each chain's head as this writer last linked it. A poll is linked from these before its
    # transaction waits for the chains' locks (while the database still writes the poll before),
    # then checked against the heads read under the locks, and linked again from those if they
    # differ: another writer moved a chain, or the poll before failed.
    expected_heads: dict[UUID, ChainHead] = field(default_factory=dict)

    async def write(self, events: Sequence[ReceivedEvent]) -> list[Rejected]:
        """Appends what is new of the poll; the events it can never record, with why."""
        incoming: list[Incoming] = []
        rejected: list[Rejected] = []
        for position, event in enumerate(events):
            if position % _EVENTS_BETWEEN_YIELDS == 0:
                await asyncio.sleep(0)  # the poll before may still be streaming to the database
            try:
                incoming.append(incoming_of(event))
            except Unrecordable as error:
                rejected.append(Rejected(event, str(error)))
        if incoming:
            await self._append(incoming)
        return rejected

    async def _append(self, incoming: list[Incoming]) -> None:
        """Appends, first without asking which events the log holds already (they are rare: a
        poll read again after a crash or a rebalance); if one is there, the log refuses the
        batch as a whole, and it is appended again without those."""
        try:
            await self._append_new(incoming, known=set())
        except AlreadyRecorded:
            await self._append_new(incoming, known=None)

    async def _append_new(self, incoming: list[Incoming], known: set[str] | None) -> None:
        """Appends the events not in `known` (None: asks the log which it holds)."""
        async with self.transaction() as journal:
            if known is None:
                known = await journal.known([record.event_id for record in incoming])
            fresh = _first_of_each(incoming, known)
            if not fresh:
                return
            tenants = sorted({record.tenant_id for record in fresh})
            ahead = self._linked_ahead(fresh, tenants)
            try:
                state = await journal.heads_locked(tenants)
            except BaseException:
                self.expected_heads.clear()
                raise
            heads, linked = self._linked(fresh, state, ahead)
            now = self.now()
            await journal.append(linked, now)
            checkpoints = self._due(linked, {t: signed for t, (_, signed) in state.items()}, now)
            await journal.add_checkpoints(checkpoints)
            await journal.move_chains(heads, {c.tenant_id: c.seq for c in checkpoints}, now)
            try:
                await journal.commit()
            except BaseException:
                self.expected_heads.clear()
                raise
        JOURNAL_APPENDED.inc(len(linked))
        CHECKPOINTS_SIGNED.labels("records").inc(len(checkpoints))

    def _linked_ahead(self, fresh: list[Incoming], tenants: list[UUID]) -> _Ahead | None:
        """The poll linked from the heads this writer expects, if it expects every one."""
        starts = {tenant: self.expected_heads.get(tenant) for tenant in tenants}
        if any(start is None for start in starts.values()):
            return None
        heads = {t: ChainHead(start.seq, start.hash) for t, start in starts.items() if start}
        linked = list(link_all(fresh, heads))
        self.expected_heads.update(heads)  # the next poll links on from these
        return _Ahead({t: s for t, s in starts.items() if s}, heads, linked)

    def _linked(
        self, fresh: list[Incoming], state: dict[UUID, tuple[ChainHead, int]], ahead: _Ahead | None
    ) -> tuple[dict[UUID, ChainHead], list[Linked]]:
        """The poll's links: as made ahead when the chains' heads are as expected, else anew."""
        if ahead is not None and all(ahead.starts[t] == head for t, (head, _) in state.items()):
            return ahead.heads, ahead.linked
        heads = {tenant: head for tenant, (head, _) in state.items()}
        linked = list(link_all(fresh, heads))
        self.expected_heads.update(heads)
        return heads, linked

    def _due(
        self, linked: list[Linked], signed: dict[UUID, int], now: datetime
    ) -> list[Checkpoint]:
        """A checkpoint at each record that is `checkpoint_every` past its chain's last one."""
        made: list[Checkpoint] = []
        for one in linked:
            tenant = one.record.tenant_id
            if one.seq - signed[tenant] >= self.checkpoint_every:
                made.append(self.signer.sign(tenant, one.seq, one.hash, now))
                signed[tenant] = one.seq
        return made


@dataclass(frozen=True, slots=True)
class _Ahead:
    """A poll linked before its transaction had the chains' locks: the heads it started from,
    where it left them, and its links."""

    starts: dict[UUID, ChainHead]
    heads: dict[UUID, ChainHead]
    linked: list[Linked]


def incoming_of(event: ReceivedEvent) -> Incoming:
    """What the journal records of an event, as its envelope and payload carry it."""
    envelope = event.envelope
    correlation_id = envelope.correlation_id or ""
    if "\x00" in f"{envelope.id}{envelope.type}{envelope.source}{envelope.subject}{correlation_id}":
        raise Unrecordable("an attribute holds a NUL character, which no text column can store")
    if envelope.time.tzinfo is None:
        raise Unrecordable("ce_time names no UTC offset")
    try:
        occurred_at = envelope.time.astimezone(UTC)
    except OverflowError as error:  # year 1 east of UTC, or 9999 west of it
        raise Unrecordable("ce_time is out of the range a UTC timestamp holds") from error
    actor, parties = describe(envelope.data, envelope.source)
    return Incoming(
        tenant_id=Incoming.tenant_named(envelope.tenant_id),
        event_id=Incoming.checked_id(envelope.id),
        type=envelope.type,
        source=envelope.source,
        aggregate=envelope.subject,
        actor=actor.replace("\x00", ""),
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        payload=envelope.data,
        payload_digest=payload_digest(envelope.data),
        parties=parties,
    )


def _first_of_each(incoming: list[Incoming], known: set[str]) -> list[Incoming]:
    fresh: list[Incoming] = []
    seen = set(known)
    for record in incoming:
        if record.event_id not in seen:
            seen.add(record.event_id)
            fresh.append(record)
    return fresh
