"""The inbox: ids of the messages a consumer applied, written in the transaction of the effects."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from mandi_db import PreparedQuery, driver_of

__all__ = ["claim_message"]

_CLAIM = PreparedQuery(
    text("""
    INSERT INTO inbox (consumer, message_id) VALUES (:consumer, :message_id)
    ON CONFLICT DO NOTHING RETURNING 1
""")
)


async def claim_message(session: AsyncSession, consumer: str, message_id: str) -> bool:
    """True the first time `consumer` sees `message_id`; False for a redelivery.

    A concurrent claim of the same id waits on the primary key until the other transaction ends,
    so two deliveries of one message can never both apply their effects.
    """
    in_transaction = await driver_of(session)
    return bool(
        await _CLAIM.fetch(in_transaction, {"consumer": consumer, "message_id": message_id})
    )
