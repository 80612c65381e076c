"""What a use case sees of a unit of work, whatever its repositories: enter, commit, leave."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

__all__ = ["TransactionPort"]


class TransactionPort(Protocol):
    """One transaction: entered with `async with`, committed explicitly, rolled back otherwise.

    A service's unit-of-work protocol extends it with its repositories (and its outbox).
    """

    async def commit(self) -> None:
        """Commits the transaction."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
