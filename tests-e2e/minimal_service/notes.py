"""The domain and use cases: a note, its event, and its word count."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID, uuid4

from mandi_messaging import Event, EventRegistry
from mandi_security import Principal

EVENTS = EventRegistry()


@EVENTS.event("mandi.note.written", 1)
class NoteWritten(Event):
    """A note was written."""

    note_id: UUID
    text: str


class NotesUnitOfWork(Protocol):
    """What the use cases need of a transaction."""

    notes: Any

    async def publish(self, event: Event, *, subject: str) -> None: ...
    async def commit(self) -> None: ...


async def write_note(uow: NotesUnitOfWork, principal: Principal, text: str) -> UUID:
    """Writes a note and announces it."""
    principal.require_scope("notes:write")
    note_id = uuid4()
    await uow.notes.add(note_id, principal.tenant_id, text)
    await uow.publish(NoteWritten(note_id=note_id, text=text), subject=str(note_id))
    await uow.commit()
    return note_id


async def count_words(uow: NotesUnitOfWork, event: NoteWritten) -> None:
    """Records how many words a note has (the consumer's work; it commits with the inbox)."""
    await uow.notes.set_words(event.note_id, len(event.text.split()))
