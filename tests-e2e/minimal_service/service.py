from importlib import resources

from mandi_messaging import events_topic
from mandi_runtime import ServiceDefinition
from minimal_service.bootstrap import build
from minimal_service.config import Settings
from minimal_service.consumers import consumers
from minimal_service.notes import NoteWritten
from minimal_service.routes import router

DEFINITION = ServiceDefinition(
    name="notes",
    settings=Settings,
    build=build,
    routers=[router],
    migrations=resources.files("minimal_service") / "migrations",
    topic=events_topic("notes"),
    consumers=[consumers],
    publishes=[NoteWritten],
)
