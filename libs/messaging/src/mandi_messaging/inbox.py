"""The inbox: ids of the messages a consumer applied, written in the transaction of the effects."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["claim_message"]

_CLAIM = text("""
    INSERT INTO inbox (consumer, message_id) VALUES (:consumer, :message_id)
    ON CONFLICT DO NOTHING RETURNING 1
""")


async def claim_message(session: AsyncSession, consumer: str, message_id: str) -> bool:
    """True the first time `consumer` sees `message_id`; False for a redelivery.

    A concurrent claim of the same id waits on the primary key until the other transaction ends,
    so two deliveries of one message can never both apply their effects.
    """
    connection = await session.connection()  # the session's transaction; exec() takes no text()
    result = await connection.execute(_CLAIM, {"consumer": consumer, "message_id": message_id})
    return result.first() is not None
