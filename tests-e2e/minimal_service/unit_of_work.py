from typing import Self

from mandi_messaging import OutboxAddress, OutboxUnitOfWork, events_topic
from minimal_service.notes import EVENTS
from minimal_service.tables import SqlNotes


class SqlNotesUnitOfWork(OutboxUnitOfWork):
    outbox = OutboxAddress(EVENTS, source="mandi/notes", topic=events_topic("notes"))
    notes: SqlNotes

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.notes = SqlNotes(self.session)
        return self
