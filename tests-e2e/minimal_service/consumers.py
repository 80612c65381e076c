from mandi_messaging import Consumers, events_topic
from minimal_service.notes import EVENTS, NoteWritten, count_words
from minimal_service.unit_of_work import SqlNotesUnitOfWork

consumers = Consumers(group="notes", topics=[events_topic("notes")], registry=EVENTS)


@consumers.on(NoteWritten)
async def on_note_written(event: NoteWritten, uow: SqlNotesUnitOfWork) -> None:
    await count_words(uow, event)
