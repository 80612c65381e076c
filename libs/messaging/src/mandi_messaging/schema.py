"""The outbox, inbox and dead-letter sequence tables, as statements a service's migrations run.

The outbox holds only what Kafka has not yet acknowledged (the relay deletes published rows),
so it stays small; autovacuum is told to keep up with a table that is mostly deletes. A
statement-level trigger wakes the relay at commit, once per transaction, not once per row.
The tables are not tenant-scoped: the relay and the consumers work for every tenant.

The sequencing tables (`create_sequencing_tables`, a migration of their own since the first
migrations of running services already created the others) hold, per consumer group, the keys
whose messages wait behind a dead letter and the messages that wait (`sequencing.py` says how).
"""

from __future__ import annotations

__all__ = [
    "NOTIFY_CHANNEL",
    "create_messaging_tables",
    "create_sequencing_tables",
    "drop_messaging_tables",
    "drop_sequencing_tables",
]

NOTIFY_CHANNEL = "mandi_outbox"

_CREATE = [
    """
    CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id uuid NOT NULL,
        topic text NOT NULL,
        message_key text NOT NULL,
        event_type text NOT NULL,
        source text NOT NULL,
        occurred_at timestamptz NOT NULL,
        tenant_id text,
        correlation_id text,
        causation_id text,
        traceparent text,
        payload bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    ) WITH (
        autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = 10000,
        autovacuum_vacuum_cost_delay = 0
    )
    """,
    f"""
    CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER outbox_wake_relay AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay()
    """,
    """
    CREATE TABLE inbox (
        consumer text NOT NULL,
        message_id text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
    )
    """,
    "CREATE INDEX inbox_received_at ON inbox (received_at)",
]

_DROP = [
    "DROP TABLE IF EXISTS inbox",
    "DROP TRIGGER IF EXISTS outbox_wake_relay ON outbox",
    "DROP FUNCTION IF EXISTS outbox_wake_relay()",
    "DROP TABLE IF EXISTS outbox",
]


_CREATE_SEQUENCING = [
    """
    CREATE TABLE blocked_sequences (
        consumer text NOT NULL,
        topic text NOT NULL,
        message_key bytea NOT NULL,
        dead_letter_id text NOT NULL,
        reason text NOT NULL,
        blocked_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, topic, message_key)
    )
    """,
    """
    CREATE TABLE parked_messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        consumer text NOT NULL,
        topic text NOT NULL,
        message_key bytea NOT NULL,
        message_id text NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset bigint NOT NULL,
        header_names text[] NOT NULL,
        header_values bytea[] NOT NULL,
        value bytea,
        parked_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (consumer, message_id),
        FOREIGN KEY (consumer, topic, message_key) REFERENCES blocked_sequences
    )
    """,
    "CREATE INDEX parked_messages_in_order ON parked_messages (consumer, topic, message_key, id)",
]

_DROP_SEQUENCING = [
    "DROP TABLE IF EXISTS parked_messages",
    "DROP TABLE IF EXISTS blocked_sequences",
]


def create_messaging_tables() -> list[str]:
    """Statements that create the outbox, its wake-up trigger and the inbox."""
    return list(_CREATE)


def drop_messaging_tables() -> list[str]:
    """Statements that undo `create_messaging_tables`."""
    return list(_DROP)


def create_sequencing_tables() -> list[str]:
    """Statements that create the blocked keys and the messages parked behind their dead letters."""
    return list(_CREATE_SEQUENCING)


def drop_sequencing_tables() -> list[str]:
    """Statements that undo `create_sequencing_tables`."""
    return list(_DROP_SEQUENCING)
