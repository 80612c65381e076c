"""The base of every SQL repository: statements in the unit of work's transaction, and the
re-encryption of its sealed columns under the newest key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Executable, LargeBinary, Result, Table, func, literal, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mandi_db.queries import PreparedQuery, QueryRow, ReadTransaction, driver_of
from mandi_security.fields import FieldCipher, SealedField

__all__ = ["SealedColumn", "SqlRepository", "SqlTenantDirectory", "StatementSource"]

# Where a repository's statements run: a unit of work's session, or a read's transaction
# (prepared queries only).
StatementSource = AsyncSession | ReadTransaction


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values, each bound to `field`, its row's tenant and its row's id.

    The table has `id` and `tenant_id` columns; `field` names the column as the AEAD context
    (`users.email`), so a ciphertext copied to another column, row or tenant does not open.
    """

    column: Column[bytes]
    field: str

    def of(self, tenant_id: Any, row_id: Any) -> SealedField:
        """The sealed field of this column in one row."""
        return SealedField.of(self.field, tenant_id, row_id)


class SqlRepository:
    """A repository on a unit of work's session, or on a read transaction for its hot reads."""

    def __init__(self, source: StatementSource) -> None:
        self._source = source

    @property
    def _session(self) -> AsyncSession:
        if not isinstance(self._source, AsyncSession):
            raise TypeError("a read transaction runs prepared queries only")
        return self._source

    async def _fetch(
        self, query: PreparedQuery, parameters: Mapping[str, Any]
    ) -> Sequence[QueryRow]:
        """Runs a prepared query in the transaction: the session's, or the read's."""
        source = self._source
        driver = source.driver if isinstance(source, ReadTransaction) else await driver_of(source)
        return await query.fetch(driver, parameters)

    async def _execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result[Any]:
        """Runs a Core statement on the session's connection: in the session's transaction.

        A statement run on every request is best built once, with `bindparam`s given here:
        SQLAlchemy then computes its cache key once, not on each call.
        """
        connection = await self._session.connection()
        return await connection.execute(statement, parameters)

    async def _reseal_stale(
        self, cipher: FieldCipher, table: Table, columns: Sequence[SealedColumn], limit: int
    ) -> int:
        """Re-encrypts up to `limit` rows with a value sealed by an older key; how many were."""
        if limit <= 0:
            return 0
        # A stale ciphertext does not start with the current key's header: found by SQL, so a
        # batch reads only rows still to do. Locked, so a concurrent change waits for this one.
        header = cipher.current_header
        stale = or_(
            *(
                func.substr(sealed.column, 1, len(header)) != literal(header, LargeBinary)
                for sealed in columns
            )
        )
        query = (
            select(table.c.id, table.c.tenant_id, *(sealed.column for sealed in columns))
            .where(stale)
            .order_by(table.c.id)
            .limit(limit)
            .with_for_update()
        )
        rows = list(await self._execute(query))
        for row in rows:
            values = _resealed(cipher, columns, row)
            await self._execute(sql_update(table).where(table.c.id == row.id).values(values))
        return len(rows)


class SqlTenantDirectory(SqlRepository):
    """The tenants a service holds data of: a table of their ids alone (`id uuid PRIMARY KEY`,
    no row-level security, no tenant's data), which jobs visiting every tenant read first."""

    def __init__(self, source: StatementSource, table: Table) -> None:
        super().__init__(source)
        self._table = table

    async def remember(self, tenant_id: UUID) -> None:
        """Adds a tenant the first time the service holds something of it."""
        await self._execute(pg_insert(self._table).values(id=tenant_id).on_conflict_do_nothing())

    async def all(self) -> list[UUID]:
        """Every tenant the service holds something of."""
        return list((await self._execute(select(self._table.c.id))).scalars())


def _resealed(cipher: FieldCipher, columns: Sequence[SealedColumn], row: Any) -> dict[str, bytes]:
    values: dict[str, bytes] = {}
    for sealed in columns:
        value = getattr(row, sealed.column.name)
        if value is not None and cipher.needs_rotation(value):
            context = sealed.of(row.tenant_id, row.id)
            values[sealed.column.name] = cipher.reseal(value, context=context)
    return values
