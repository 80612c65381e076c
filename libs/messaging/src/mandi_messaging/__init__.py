"""Mandi's messaging: CloudEvents, versioned events, outbox, typed consumers, dead letters."""

from mandi_messaging.asyncapi import asyncapi_document
from mandi_messaging.batches import (
    BatchConsumers,
    BatchHandler,
    ConsumerGroup,
    ReceivedEvent,
    Rejected,
)
from mandi_messaging.broker import FETCH_MAX_WAIT_MS, create_broker, start_broker
from mandi_messaging.dead_letters import (
    DeadLetter,
    DeadLetterPublisher,
    discard_dead_letters,
    list_dead_letters,
    replay_dead_letters,
)
from mandi_messaging.decoding import (
    DecodedEvent,
    InvalidTenant,
    decode_event,
    decode_record,
    read_envelope,
)
from mandi_messaging.delivery import (
    SKIPS_PER_COMMIT,
    ConsumerRuntime,
    DeadLetterSink,
    Delivery,
    DeliveryPipeline,
    Outcome,
    UnitOfWorkFactory,
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
from mandi_messaging.registry import (
    Event,
    EventRegistry,
    UndecodableEvent,
    UnknownEventType,
    event_name,
)
from mandi_messaging.retry import PermanentFailure, RetryPolicy
from mandi_messaging.schema import (
    NOTIFY_CHANNEL,
    create_messaging_tables,
    create_sequencing_tables,
    drop_messaging_tables,
    drop_sequencing_tables,
)
from mandi_messaging.subscriptions import RECORDS_PER_POLL, Consumers, Handler
from mandi_messaging.topics import (
    DLQ_SUFFIX,
    commands_topic,
    dead_letter_topic,
    ensure_topics,
    events_topic,
    replies_topic,
    topic_partitions,
)

__all__ = [
    "CONTENT_TYPE",
    "DLQ_SUFFIX",
    "FETCH_MAX_WAIT_MS",
    "NOTIFY_CHANNEL",
    "RECORDS_PER_POLL",
    "SKIPS_PER_COMMIT",
    "BatchConsumers",
    "BatchHandler",
    "BatchPublisher",
    "ConsumerGroup",
    "ConsumerRuntime",
    "Consumers",
    "DeadLetter",
    "DeadLetterPublisher",
    "DeadLetterSink",
    "DecodedEvent",
    "Delivery",
    "DeliveryPipeline",
    "Envelope",
    "Event",
    "EventRegistry",
    "Handler",
    "InvalidTenant",
    "MalformedEnvelope",
    "OutboxAddress",
    "OutboxRelay",
    "OutboxUnitOfWork",
    "OutboxWriter",
    "Outcome",
    "OutgoingMessage",
    "PermanentFailure",
    "ReceivedEvent",
    "Rejected",
    "RetryPolicy",
    "UndecodableEvent",
    "UnitOfWorkFactory",
    "UnknownEventType",
    "asyncapi_document",
    "claim_message",
    "commands_topic",
    "create_broker",
    "create_messaging_tables",
    "create_producer",
    "create_sequencing_tables",
    "dead_letter_topic",
    "decode_event",
    "decode_record",
    "discard_dead_letters",
    "drop_messaging_tables",
    "drop_sequencing_tables",
    "ensure_topics",
    "event_name",
    "events_topic",
    "list_dead_letters",
    "read_envelope",
    "replay_dead_letters",
    "replies_topic",
    "start_broker",
    "start_producer",
    "topic_partitions",
]
