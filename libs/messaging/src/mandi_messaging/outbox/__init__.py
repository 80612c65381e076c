"""The transactional outbox: events written with the state change, relayed to Kafka in order."""

from mandi_messaging.outbox.relay import OutboxRelay
from mandi_messaging.outbox.writer import OutboxWriter

__all__ = ["OutboxRelay", "OutboxWriter"]
