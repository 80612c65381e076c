"""Mandi's messaging: CloudEvents envelopes, versioned events, outbox, inbox, dead letters."""

from mandi_messaging.broker import FETCH_MAX_WAIT_MS, create_broker, start_broker, subscribe
from mandi_messaging.consumer import EventConsumer, Handler, Outcome, UnitOfWorkFactory
from mandi_messaging.dead_letters import (
    DeadLetter,
    DeadLetterPublisher,
    list_dead_letters,
    replay_dead_letters,
)
from mandi_messaging.envelope import CONTENT_TYPE, Envelope, MalformedEnvelope
from mandi_messaging.inbox import claim_message
from mandi_messaging.outbox import (
    OutboxAddress,
    OutboxRelay,
    OutboxUnitOfWork,
    OutboxWriter,
)
from mandi_messaging.producer import (
    BatchPublisher,
    OutgoingMessage,
    create_producer,
    start_producer,
)
from mandi_messaging.registry import Event, EventRegistry, UndecodableEvent, UnknownEventType
from mandi_messaging.retry import PermanentFailure, RetryPolicy
from mandi_messaging.schema import NOTIFY_CHANNEL, create_messaging_tables, drop_messaging_tables
from mandi_messaging.topics import (
    DLQ_SUFFIX,
    dead_letter_topic,
    ensure_topics,
    events_topic,
    topic_partitions,
)

__all__ = [
    "CONTENT_TYPE",
    "DLQ_SUFFIX",
    "FETCH_MAX_WAIT_MS",
    "NOTIFY_CHANNEL",
    "BatchPublisher",
    "DeadLetter",
    "DeadLetterPublisher",
    "Envelope",
    "Event",
    "EventConsumer",
    "EventRegistry",
    "Handler",
    "MalformedEnvelope",
    "OutboxAddress",
    "OutboxRelay",
    "OutboxUnitOfWork",
    "OutboxWriter",
    "Outcome",
    "OutgoingMessage",
    "PermanentFailure",
    "RetryPolicy",
    "UndecodableEvent",
    "UnitOfWorkFactory",
    "UnknownEventType",
    "claim_message",
    "create_broker",
    "create_messaging_tables",
    "create_producer",
    "dead_letter_topic",
    "drop_messaging_tables",
    "ensure_topics",
    "events_topic",
    "list_dead_letters",
    "replay_dead_letters",
    "start_broker",
    "start_producer",
    "subscribe",
    "topic_partitions",
]
