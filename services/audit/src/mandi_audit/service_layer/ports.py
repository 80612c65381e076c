"""What the use cases need of the log's storage (adapters/log.py and checkpoint_file.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from mandi_audit.domain.checkpoints import Checkpoint

__all__ = [
    "AuditLog",
    "ChainState",
    "CheckpointFileUnreadable",
    "CheckpointKeeper",
    "RecordFilter",
    "TenantReader",
]


@dataclass(frozen=True, slots=True)
class ChainState:
    """A tenant's chain as the journal's bookkeeping has it: its head and its last signature."""

    tenant_id: UUID
    head_seq: int
    head_at: datetime
    checkpoint_seq: int
    checkpoint_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What a query asks for; every given field must match."""

    aggregate: str | None = None
    actor: str | None = None
    type: str | None = None
    correlation_id: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


class TenantReader(Protocol):
    """One tenant's log in one READ ONLY snapshot. Rows are mappings of column to value."""

    tenant_id: UUID

    async def stored(self, first: int, last: int, signed: Sequence[int] = ()) -> Sequence[Any]: ...

    async def recorded_head(self) -> int: ...

    async def serially(self) -> None: ...

    async def hash_at(self, seq: int) -> bytes | None: ...

    async def checkpoints(self, first: int, last: int) -> list[Checkpoint]: ...

    async def covering_checkpoint(self, seq: int) -> Checkpoint | None: ...

    async def seq_range(self, start: datetime, end: datetime) -> tuple[int, int] | None: ...

    async def time_span(self, first: int, last: int) -> tuple[datetime, datetime]: ...

    async def records(self, first: int, last: int, limit: int) -> Sequence[Any]: ...

    async def query(
        self, wanted: RecordFilter, after_seq: int, limit: int, party: UUID | None = None
    ) -> Sequence[Any]: ...


class AuditLog(Protocol):
    """The log as a whole: tenants' readers, the chains' bookkeeping, keys, timed signatures."""

    def reading(self, tenant_id: UUID) -> AbstractAsyncContextManager[TenantReader]: ...

    async def chains(self) -> list[ChainState]: ...

    async def latest_checkpoints(self) -> list[Checkpoint]: ...

    async def sign_heads(
        self, tenants: Sequence[UUID], sign: Callable[[UUID, int, bytes], Checkpoint], now: datetime
    ) -> list[Checkpoint]: ...

    async def publish_keys(self, public_keys: dict[str, bytes], now: datetime) -> None: ...

    async def published_keys(self) -> dict[str, bytes]: ...


class CheckpointFileUnreadable(Exception):
    """The checkpoints kept outside the database cannot be read: verification against them,
    the point of keeping them there, cannot be done (it fails rather than skip them)."""


class CheckpointKeeper(Protocol):
    """Where each tenant's newest checkpoint is kept outside the database."""

    def read(self) -> dict[UUID, Checkpoint]:
        """Raises CheckpointFileUnreadable when the kept checkpoints cannot be read."""

    def keep(self, checkpoints: Iterable[Checkpoint]) -> int: ...
