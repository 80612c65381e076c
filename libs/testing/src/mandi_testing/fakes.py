"""Fakes for a service layer's unit tests (cosmicpython's FakeUnitOfWork pattern).

A `FakeUnitOfWork` works on a copy of a `FakeStore` and writes it back on commit, so a use case
that forgets to commit is caught; it shows one tenant's rows only, as row-level security does,
and refuses to add a row of another tenant. A service subclasses it to hang its fake
repositories on `rows(table)`:

    class FakePartnersUnitOfWork(FakeUnitOfWork):
        def __init__(self, store, tenant_id):
            super().__init__(store, tenant_id)
            self.partners = FakePartners(self.rows("partners"))
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

__all__ = [
    "FakeClock",
    "FakeStore",
    "FakeTransaction",
    "FakeUnitOfWork",
    "PublishedEvent",
    "TenantRows",
]


class FakeClock:
    """Time that moves only when a test moves it."""

    def __init__(self, moment: datetime | None = None) -> None:
        self.moment = moment or datetime(2026, 11, 22, 12, tzinfo=UTC)

    def now(self) -> datetime:
        """The test's moment."""
        return self.moment

    def advance(self, delta: timedelta) -> None:
        """Moves time on."""
        self.moment += delta


@dataclass(frozen=True)
class PublishedEvent:
    """An event a unit of work published, with the tenant and subject it went out with."""

    tenant_id: UUID
    event: Any
    subject: str


@dataclass
class FakeStore:
    """What a fake database holds: rows by table and id, and the events committed."""

    tables: dict[str, dict[Any, Any]] = field(default_factory=dict)
    events: list[PublishedEvent] = field(default_factory=list)

    def table(self, name: str) -> dict[Any, Any]:
        """A table's rows by id (created empty on first use)."""
        return self.tables.setdefault(name, {})


class TenantRows:
    """One table's rows as row-level security shows them to one tenant (rows have `id` and
    `tenant_id`); with no tenant, none."""

    def __init__(self, rows: dict[Any, Any], tenant_id: UUID | None) -> None:
        self.rows, self.tenant_id = rows, tenant_id

    def visible(self, row: Any) -> bool:
        """Whether the tenant sees the row."""
        return self.tenant_id is not None and row.tenant_id == self.tenant_id

    def __iter__(self) -> Iterator[Any]:
        return (row for row in self.rows.values() if self.visible(row))

    def where(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """The visible rows the predicate holds for."""
        return [row for row in self if predicate(row)]

    def get(self, row_id: Any) -> Any:
        """The row, or None when it does not exist or is another tenant's."""
        row = self.rows.get(row_id)
        return row if row is not None and self.visible(row) else None

    def put(self, row: Any) -> None:
        """Adds or replaces a row; refused for another tenant's, as RLS's WITH CHECK does."""
        if not self.visible(row):
            raise PermissionError("row-level security refuses a row of another tenant")
        self.rows[row.id] = row


class FakeTransaction:
    """Works on a copy of the store; `commit` writes the copy back, leaving discards it."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.staged = copy.deepcopy(store)
        self.committed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.rollback()

    def table(self, name: str) -> dict[Any, Any]:
        """A table's staged rows, all of them (a tenant-less table)."""
        return self.staged.table(name)

    async def commit(self) -> None:
        """Makes the staged changes the store's; the next statement starts a new transaction."""
        self.store.tables = copy.deepcopy(self.staged.tables)
        self.store.events = list(self.staged.events)
        self.committed = True

    async def rollback(self) -> None:
        """Discards what was not committed (in place: repositories keep their tables)."""
        committed = copy.deepcopy(self.store)
        for name, rows in self.staged.tables.items():
            rows.clear()
            rows.update(committed.tables.pop(name, {}))
        self.staged.tables.update(committed.tables)
        self.staged.events[:] = committed.events


class FakeUnitOfWork(FakeTransaction):
    """One tenant's transaction: its rows only, and the events it publishes."""

    def __init__(self, store: FakeStore, tenant_id: UUID) -> None:
        if not isinstance(tenant_id, UUID):
            raise TypeError(f"a unit of work runs as one tenant, not {tenant_id!r}")
        super().__init__(store)
        self.tenant_id = tenant_id

    def rows(self, table: str) -> TenantRows:
        """The table's staged rows, as this tenant sees them."""
        return TenantRows(self.staged.table(table), self.tenant_id)

    async def publish(self, event: Any, *, subject: str) -> None:
        """Stages the event; it reaches the store's events on commit."""
        self.staged.events.append(PublishedEvent(self.tenant_id, event, subject))
