"""Hot statements on the driver: compiled once, run by asyncpg with nothing between.

A read by id is most of a service's traffic, and SQLAlchemy's execution path (the compiled
cache's key, an execution context, a result proxy, the session's transaction bookkeeping) cost
more CPU than the statement's round trips; so did the UPDATE and the outbox INSERT of every
write. `PreparedQuery` compiles a Core statement (or a `text()`) once, at import, for asyncpg's
`$n` parameters; asyncpg then prepares it once per connection and caches it. Its rows are
asyncpg's records with attribute access (`row.legal_name`), holding the driver's values: lists
for arrays, `uuid.UUID`s, decoded JSON.

Two ways to run one:
- `ReadTransaction`: a READ ONLY transaction of one tenant on a pooled connection, with no
  session at all; the tenant travels with its BEGIN as a session's does (see tenancy.py).
- `driver_of(session)`: the driver connection in a session's own transaction, so a unit of
  work's `SELECT … FOR UPDATE` takes the same path and the same locks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast
from uuid import UUID

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import ClauseElement

from mandi_db.tenancy import TenantConnection

if TYPE_CHECKING:
    from sqlalchemy.sql.compiler import SQLCompiler
from mandi_db.unit_of_work import TenantRequired

__all__ = ["PreparedQuery", "QueryRow", "ReadTransaction", "driver_of"]

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class QueryRow(asyncpg.Record):
    """A row of a prepared query: its columns by name as attributes, as SQLAlchemy's rows."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class PreparedQuery:
    """A statement compiled once for asyncpg; run with `ReadTransaction` or `driver_of`.

    Parameters are the statement's `bindparam`s by name; those of a type SQLAlchemy converts
    before the driver sees them (arrays, type decorators) are converted as it would.
    """

    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast("SQLCompiler", statement.compile(dialect=_DIALECT))
        self.sql = compiled.string
        self._convert = _converters(compiled)
        self._order = tuple(compiled.positiontup or ())
        # Literals in the statement (labels, constants) are parameters too, with fixed values.
        self._fixed = compiled.construct_params(_check=False)
        self._asked = frozenset(name for name in self._order if self._fixed[name] is None)

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The driver's positional arguments for these named parameters."""
        missing = self._asked - parameters.keys()
        if missing:
            raise TypeError(f"a prepared query needs {sorted(missing)}")
        values = [parameters.get(name, self._fixed[name]) for name in self._order]
        for position, name in enumerate(self._order):
            convert = self._convert.get(name)
            if convert is not None and values[position] is not None:
                values[position] = convert(values[position])
        return values

    async def fetch(
        self, connection: asyncpg.Connection, parameters: Mapping[str, Any]
    ) -> Sequence[QueryRow]:
        """Every row (none for a statement returning none), on this driver connection, in
        whatever transaction it is in."""
        rows: Sequence[QueryRow] = await connection.fetch(
            self.sql, *self.arguments(parameters), record_class=QueryRow
        )
        return rows


def _converters(compiled: SQLCompiler) -> dict[str, Callable[[Any], Any]]:
    converters: dict[str, Callable[[Any], Any]] = {}
    for name, convert in compiled._bind_processors.items():  # noqa: SLF001 - no public name
        if not callable(convert):  # a tuple's, one per member: IN lists are not prepared here
            raise TypeError(f"a prepared query takes no tuple parameter such as {name!r}")
        converters[name] = convert
    return converters


_DRIVER = "mandi_driver"  # session.info: (the transaction, its driver connection)


async def driver_of(session: AsyncSession) -> asyncpg.Connection:
    """The driver connection of the session's transaction, begun (with its tenant) if not yet.

    Remembered for the transaction: a use case runs several statements in one, and asking the
    session for its connection each time cost more CPU than building their arguments.
    """
    transaction = session.sync_session.get_transaction()
    remembered = session.info.get(_DRIVER)
    if transaction is not None and remembered is not None and remembered[0] is transaction:
        driver: asyncpg.Connection = remembered[1]
        return driver
    connection = await session.connection()
    driver = _tenant_driver(await connection.get_raw_connection())
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


class ReadTransaction:
    """One tenant's READ ONLY transaction on a pooled connection, without a session.

    Entered, it checks a connection out and begins (one round trip, the tenant with it); left,
    it commits and gives the connection back. Row-level security holds as in a unit of work:
    the tenant is a verified one, named by the caller, and never outlives the transaction.
    """

    def __init__(self, engine: AsyncEngine, *, tenant_id: UUID) -> None:
        if not isinstance(tenant_id, UUID):
            raise TenantRequired(f"a read runs as one tenant, not {tenant_id!r}")
        self._engine = engine
        self.tenant_id = tenant_id
        self._pooled: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None
        self._transaction: Any = None

    @property
    def driver(self) -> asyncpg.Connection:
        """The driver connection, in the transaction."""
        if self._driver is None:
            raise RuntimeError("a read transaction is used inside its `async with` block")
        return self._driver

    async def __aenter__(self) -> Self:
        pooled = await self._engine.connect()
        try:
            driver = _tenant_driver(await pooled.get_raw_connection())
            driver.begin_as(str(self.tenant_id))
            transaction = driver.transaction(readonly=True)
            await transaction.start()
        except BaseException:
            # A connection that could not even begin is not handed out again.
            with contextlib.suppress(Exception):
                await pooled.invalidate()
            await pooled.close()
            raise
        self._pooled, self._driver, self._transaction = pooled, driver, transaction
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        pooled, transaction = self._pooled, self._transaction
        self._pooled = self._driver = self._transaction = None
        if pooled is None:
            return
        try:
            # Nothing was written: committing ends it as cheaply as a rollback would.
            await (transaction.commit() if exc is None else transaction.rollback())
        except BaseException:
            # In an unknown state: the pool must not hand this connection out again.
            await pooled.invalidate()
            raise
        finally:
            await pooled.close()


def _tenant_driver(pooled: Any) -> TenantConnection:
    driver = pooled.driver_connection
    # Not isinstance: asyncpg's metaclass makes any of its connections pass for a subclass.
    if not issubclass(type(driver), TenantConnection):
        raise TypeError("prepared queries need an engine of create_database_engine")
    return driver  # type: ignore[no-any-return]
