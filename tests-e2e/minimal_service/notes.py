"""The domain and use cases: a note, its event, and its word count."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol
from uuid import UUID, uuid4

from mandi_errors import NotFound
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


UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[NotesUnitOfWork]]


async def write_note(uow_of: UnitOfWorkFactory, principal: Principal, text: str) -> UUID:
    """Writes a note and announces it."""
    principal.require_scope("notes:write")
    note_id = uuid4()
    async with uow_of(principal.tenant_id) as uow:
        await uow.notes.add(note_id, principal.tenant_id, text)
        await uow.publish(NoteWritten(note_id=note_id, text=text), subject=str(note_id))
        await uow.commit()
    return note_id


async def read_note(
    uow_of: UnitOfWorkFactory, principal: Principal, note_id: UUID
) -> dict[str, Any]:
    """A note of the caller's tenant, with its word count once the consumer has counted."""
    principal.require_scope("notes:read")
    async with uow_of(principal.tenant_id) as uow:
        note = await uow.notes.get(note_id)
    if note is None:
        raise NotFound("No such note.")
    return {"id": note.id, "text": note.text, "words": note.words}


async def count_words(uow: NotesUnitOfWork, event: NoteWritten) -> None:
    """Records how many words a note has (the consumer's work; it commits with the inbox)."""
    await uow.notes.set_words(event.note_id, len(event.text.split()))
