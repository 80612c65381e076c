from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from mandi_errors import NotFound
from mandi_runtime.requests import PrincipalDep, deps_of
from minimal_service.bootstrap import NotesDependencies
from minimal_service.notes import write_note

router = APIRouter()
DepsDep = Annotated[NotesDependencies, Depends(deps_of)]


class NoteIn(BaseModel):
    text: str


@router.post("/notes", status_code=status.HTTP_201_CREATED)
async def post_note(body: NoteIn, principal: PrincipalDep, deps: DepsDep) -> dict[str, Any]:
    async with deps.uow(principal.tenant_id) as uow:
        return {"id": await write_note(uow, principal, body.text)}


@router.get("/notes/{note_id}")
async def get_note(note_id: UUID, principal: PrincipalDep, deps: DepsDep) -> dict[str, Any]:
    principal.require_scope("notes:read")
    async with deps.uow(principal.tenant_id) as uow:
        note = await uow.notes.get(note_id)
    if note is None:
        raise NotFound("No such note.")
    return {"id": note.id, "text": note.text, "words": note.words}
