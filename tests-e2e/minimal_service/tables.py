"""The notes table and its repository (business, not wiring)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, Integer, MetaData, Table, Text, Uuid, insert, select, update

from mandi_db import SqlRepository

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("text", Text, nullable=False),
    Column("words", Integer, nullable=True),
)


class SqlNotes(SqlRepository):
    """Notes of the unit of work's tenant."""

    async def add(self, note_id: UUID, tenant_id: UUID, text: str) -> None:
        await self._execute(insert(notes).values(id=note_id, tenant_id=tenant_id, text=text))

    async def get(self, note_id: UUID) -> Any:
        return (await self._execute(select(notes).where(notes.c.id == note_id))).first()

    async def set_words(self, note_id: UUID, words: int) -> None:
        await self._execute(update(notes).where(notes.c.id == note_id).values(words=words))
