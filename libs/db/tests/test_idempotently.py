"""idempotently(): a use case done once per Idempotency-Key, on the real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Self
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from mandi_db import (
    Answer,
    IdempotencyKey,
    IdempotencyReused,
    IdempotencyStore,
    TenantAwareSession,
    UnitOfWork,
    create_idempotency_table,
    enable_tenant_isolation,
    idempotently,
    request_fingerprint,
)

pytestmark = pytest.mark.integration

NOTES_TABLE = """
    CREATE TABLE notes (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        body text NOT NULL
    )
"""


class NoteAdded(BaseModel):
    """The answer of adding a note."""

    note_id: UUID
    body: str


class NotesUnitOfWork(UnitOfWork):
    """A tenant's transaction that stores idempotent answers with its writes."""

    idempotency: IdempotencyStore

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.idempotency = IdempotencyStore(self.session)
        return self


SCHEMA = [*create_idempotency_table(), NOTES_TABLE, *enable_tenant_isolation("notes")]


class NoteWriter:
    """The use case's work: adds a note, counting how often it really ran."""

    def __init__(self, body: str, *, fail: bool = False) -> None:
        self.body = body
        self.fail = fail
        self.runs = 0

    async def __call__(self, uow: NotesUnitOfWork) -> NoteAdded:
        self.runs += 1
        note_id = uuid4()
        await uow.session.exec(
            text("INSERT INTO notes (id, tenant_id, body) VALUES (:id, :tenant, :body)"),
            params={"id": note_id, "tenant": uow.tenant_id, "body": self.body},
        )
        if self.fail:
            raise RuntimeError("the use case failed after its write")
        return NoteAdded(note_id=note_id, body=self.body)


def _key(key: str, body: str) -> IdempotencyKey:
    fingerprint = request_fingerprint("POST", "/notes", json.dumps({"body": body}).encode())
    return IdempotencyKey("user-1", key, fingerprint)


async def _add(
    sessions: async_sessionmaker[TenantAwareSession],
    tenant: UUID,
    key: IdempotencyKey | None,
    work: Callable[[NotesUnitOfWork], Awaitable[NoteAdded]],
) -> Answer[NoteAdded]:
    transaction = NotesUnitOfWork(sessions, tenant_id=tenant)
    return await idempotently(transaction, key, work, answer_type=NoteAdded)


async def _bodies(sessions: async_sessionmaker[TenantAwareSession], tenant: UUID) -> list[str]:
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        rows = await uow.session.exec(text("SELECT body FROM notes ORDER BY body"))
        return [row.body for row in rows]


async def _stored_answers(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> dict[str, Any]:
    async with UnitOfWork(sessions, tenant_id=tenant) as uow:
        rows = await uow.session.exec(text("SELECT key, response FROM idempotency_keys"))
        return {row.key: row.response for row in rows}


async def test_the_first_request_does_the_work_commits_it_and_stores_the_answer(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    work = NoteWriter("buy 40 t of wheat")

    answer = await _add(sessions, tenant, _key("order-1", work.body), work)

    assert answer.replayed is False
    assert answer.value.body == "buy 40 t of wheat"
    assert work.runs == 1
    assert await _bodies(sessions, tenant) == ["buy 40 t of wheat"]
    stored = await _stored_answers(sessions, tenant)
    assert stored == {"order-1": answer.value.model_dump(mode="json")}


async def test_a_retry_with_the_same_key_replays_the_answer_without_doing_the_work_again(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    work = NoteWriter("buy 40 t of wheat")
    first = await _add(sessions, tenant, _key("order-1", work.body), work)

    retry = await _add(sessions, tenant, _key("order-1", work.body), work)

    assert retry.replayed is True
    assert retry.value == first.value
    assert isinstance(retry.value, NoteAdded)
    assert work.runs == 1
    assert await _bodies(sessions, tenant) == ["buy 40 t of wheat"]


async def test_a_key_reused_for_a_different_request_is_refused_and_does_nothing(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    await _add(sessions, tenant, _key("order-1", "buy 40 t of wheat"), NoteWriter("buy 40 t"))
    other = NoteWriter("sell 9 t of rice")

    with pytest.raises(IdempotencyReused):
        await _add(sessions, tenant, _key("order-1", other.body), other)

    assert other.runs == 0
    assert await _bodies(sessions, tenant) == ["buy 40 t"]


async def test_without_a_key_the_work_runs_every_time_and_nothing_is_stored(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    work = NoteWriter("buy 40 t of wheat")

    answers = [await _add(sessions, tenant, None, work) for _ in range(2)]

    assert [answer.replayed for answer in answers] == [False, False]
    assert answers[0].value.note_id != answers[1].value.note_id
    assert work.runs == 2
    assert await _bodies(sessions, tenant) == ["buy 40 t of wheat"] * 2
    assert await _stored_answers(sessions, tenant) == {}


async def test_work_that_fails_stores_nothing_and_a_retry_does_the_work(
    sessions: async_sessionmaker[TenantAwareSession], tenant: UUID
) -> None:
    key = _key("order-1", "buy 40 t of wheat")

    with pytest.raises(RuntimeError, match="failed after its write"):
        await _add(sessions, tenant, key, NoteWriter("buy 40 t of wheat", fail=True))
    assert await _bodies(sessions, tenant) == []
    assert await _stored_answers(sessions, tenant) == {}

    retry = await _add(sessions, tenant, key, NoteWriter("buy 40 t of wheat"))

    assert retry.replayed is False
    assert await _bodies(sessions, tenant) == ["buy 40 t of wheat"]
    assert await _stored_answers(sessions, tenant) == {
        "order-1": retry.value.model_dump(mode="json")
    }
