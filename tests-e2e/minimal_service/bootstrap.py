from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from mandi_runtime import Resources, Wiring
from minimal_service.config import Settings
from minimal_service.unit_of_work import SqlNotesUnitOfWork


@dataclass(frozen=True)
class NotesDependencies:
    uow: Callable[[UUID], SqlNotesUnitOfWork]


def build(resources: Resources[Settings]) -> Wiring[NotesDependencies]:
    def uow(tenant_id: UUID) -> SqlNotesUnitOfWork:
        return SqlNotesUnitOfWork(resources.sessions, tenant_id=tenant_id)

    return Wiring(NotesDependencies(uow), consumer_unit_of_work=uow)
