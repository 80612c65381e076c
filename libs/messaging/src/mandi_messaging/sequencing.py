"""Sequenced dead letters: while a message of key K is dead-lettered, K's later messages wait.

Kafka keeps one aggregate's messages in order (the key is the aggregate's id); a dead letter
taken out of that order would let later messages overtake it, as Axon's sequenced dead-letter
queue prevents. So, per consumer group, a dead-lettered message with a key blocks its key: the
key's later messages are parked in the service's database instead of handled, while other keys
flow on (a record that is not our CloudEvent has no id to wait for, so it blocks nothing).
When the dead letter comes back (a replay after a fix) and is applied, or when an operator
discards it, the parked messages are applied in the order they arrived, and the key flows again.
Replays and discards travel through the original topic, addressed to the group, so they reach
the partition's owner in order with the key's live messages.

The state lives in the service's database, next to the inbox, because it must survive restarts
and be seen by whichever replica owns the partition after a rebalance:

- `blocked_sequences`: one row per (group, topic, key) that waits, naming the dead letter it
  waits for (its CloudEvents id) and why;
- `parked_messages`: the messages waiting behind it, whole (headers, value, position), in
  arrival order.

Neither is tenant-scoped: a consumer group works for every tenant. Every function here runs in
the caller's transaction, so parking a message and acknowledging its offset never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from mandi_db import PreparedQuery, QueryRow, driver_of

__all__ = [
    "Admission",
    "ParkedMessage",
    "admit",
    "block",
    "blocked_by",
    "forget_parked",
    "next_parked",
    "park",
    "unblock",
]

# One round trip per message: whether its key waits, and the inbox claim unless it must wait.
# The message a key waits for may claim (it is the dead letter coming back).
_ADMIT = PreparedQuery(
    text("""
    WITH blocker AS (
        SELECT dead_letter_id FROM blocked_sequences
        WHERE consumer = :consumer AND topic = :topic AND message_key = :message_key
    ), claimed AS (
        INSERT INTO inbox (consumer, message_id)
        SELECT :consumer, :message_id
        WHERE NOT EXISTS (SELECT 1 FROM blocker WHERE dead_letter_id <> :message_id)
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT dead_letter_id FROM blocker) AS blocked_by,
           EXISTS (SELECT 1 FROM claimed) AS claimed
""")
)
_BLOCKED_BY = PreparedQuery(
    text("""
    SELECT dead_letter_id FROM blocked_sequences
    WHERE consumer = :consumer AND topic = :topic AND message_key = :message_key
""")
)
_BLOCK = PreparedQuery(
    text("""
    INSERT INTO blocked_sequences (consumer, topic, message_key, dead_letter_id, reason)
    VALUES (:consumer, :topic, :message_key, :dead_letter_id, :reason)
    ON CONFLICT (consumer, topic, message_key) DO UPDATE
        SET dead_letter_id = EXCLUDED.dead_letter_id, reason = EXCLUDED.reason, blocked_at = now()
""")
)
_PARK = PreparedQuery(
    text("""
    INSERT INTO parked_messages (consumer, topic, message_key, message_id, kafka_partition,
                                 kafka_offset, header_names, header_values, value)
    VALUES (:consumer, :topic, :message_key, :message_id, :partition, :offset,
            :header_names, :header_values, :value)
    ON CONFLICT (consumer, message_id) DO NOTHING
""")
)
_NEXT_PARKED = PreparedQuery(
    text("""
    SELECT id, kafka_partition, kafka_offset, header_names, header_values, value
    FROM parked_messages
    WHERE consumer = :consumer AND topic = :topic AND message_key = :message_key
    ORDER BY id LIMIT 1
""")
)
_FORGET_PARKED = PreparedQuery(text("DELETE FROM parked_messages WHERE id = :id"))
_UNBLOCK = PreparedQuery(
    text("""
    DELETE FROM blocked_sequences b
    WHERE consumer = :consumer AND topic = :topic AND message_key = :message_key
      AND NOT EXISTS (SELECT 1 FROM parked_messages p WHERE p.consumer = b.consumer
                      AND p.topic = b.topic AND p.message_key = b.message_key)
""")
)


@dataclass(frozen=True, slots=True)
class Admission:
    """What the inbox and the key's sequence say about one message a group received."""

    claimed: bool
    blocked_by: str | None

    def must_wait(self, message_id: str) -> bool:
        """True when its key waits for another message's dead letter: it is parked."""
        return self.blocked_by is not None and self.blocked_by != message_id


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    """A message waiting behind its key's dead letter, as Kafka delivered it."""

    id: int
    record: ConsumerRecord


def _sequence(consumer: str, record: ConsumerRecord) -> dict[str, object]:
    return {"consumer": consumer, "topic": record.topic, "message_key": record.key}


async def _fetch(
    session: AsyncSession, statement: PreparedQuery, params: dict[str, object]
) -> Sequence[QueryRow]:
    """Runs a statement on the driver, in the caller's transaction: once per message, so
    without SQLAlchemy's execution path."""
    return await statement.fetch(await driver_of(session), params)


async def admit(
    session: AsyncSession, consumer: str, record: ConsumerRecord, message_id: str
) -> Admission:
    """Claims the message in the inbox unless its key waits for another message's dead letter."""
    [row] = await _fetch(session, _ADMIT, {**_sequence(consumer, record), "message_id": message_id})
    return Admission(claimed=bool(row.claimed), blocked_by=row.blocked_by)


async def blocked_by(session: AsyncSession, consumer: str, record: ConsumerRecord) -> str | None:
    """The id of the dead letter the record's key waits for, if it waits."""
    rows = await _fetch(session, _BLOCKED_BY, _sequence(consumer, record))
    blocker: str | None = rows[0].dead_letter_id if rows else None
    return blocker


async def block(
    session: AsyncSession, consumer: str, record: ConsumerRecord, dead_letter_id: str, reason: str
) -> None:
    """Makes the record's key wait for the dead letter `dead_letter_id` (replacing another)."""
    params = {**_sequence(consumer, record), "dead_letter_id": dead_letter_id, "reason": reason}
    await _fetch(session, _BLOCK, params)


async def park(
    session: AsyncSession, consumer: str, record: ConsumerRecord, message_id: str
) -> None:
    """Keeps a message until its key's dead letter is resolved; parking it twice keeps one."""
    headers: Sequence[tuple[str, bytes]] = record.headers
    params = {
        **_sequence(consumer, record),
        "message_id": message_id,
        "partition": record.partition,
        "offset": record.offset,
        "header_names": [name for name, _ in headers],
        "header_values": [value for _, value in headers],
        "value": record.value,
    }
    await _fetch(session, _PARK, params)


async def next_parked(
    session: AsyncSession, consumer: str, record: ConsumerRecord
) -> ParkedMessage | None:
    """The first message parked behind the record's key, rebuilt as Kafka delivered it."""
    rows = await _fetch(session, _NEXT_PARKED, _sequence(consumer, record))
    if not rows:
        return None
    row = rows[0]
    parked = ConsumerRecord(
        topic=record.topic,
        partition=row.kafka_partition,
        offset=row.kafka_offset,
        timestamp=0,
        timestamp_type=0,
        key=record.key,
        value=row.value,
        checksum=None,
        serialized_key_size=len(record.key or b""),
        serialized_value_size=len(row.value or b""),
        headers=list(zip(row.header_names, row.header_values, strict=True)),
    )
    return ParkedMessage(id=row.id, record=parked)


async def forget_parked(session: AsyncSession, parked: ParkedMessage) -> None:
    """Removes a parked message that was applied, skipped or dead-lettered in its turn."""
    await _fetch(session, _FORGET_PARKED, {"id": parked.id})


async def unblock(session: AsyncSession, consumer: str, record: ConsumerRecord) -> None:
    """Lets the record's key flow again, unless messages are still parked behind it."""
    await _fetch(session, _UNBLOCK, _sequence(consumer, record))
