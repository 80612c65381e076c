from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from mandi_runtime.requests import PrincipalDep, deps_of
from minimal_service.bootstrap import NotesDependencies
from minimal_service.notes import read_note, write_note

router = APIRouter()
DepsDep = Annotated[NotesDependencies, Depends(deps_of)]


class NoteIn(BaseModel):
    text: str


@router.post("/notes", status_code=status.HTTP_201_CREATED)
async def post_note(body: NoteIn, principal: PrincipalDep, deps: DepsDep) -> dict[str, Any]:
    return {"id": await write_note(deps.uow, principal, body.text)}


@router.get("/notes/{note_id}")
async def get_note(note_id: UUID, principal: PrincipalDep, deps: DepsDep) -> dict[str, Any]:
    return await read_note(deps.uow, principal, note_id)
