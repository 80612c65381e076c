"""The transactional outbox: events written with the state change, relayed to Kafka in order."""

from mandi_messaging.outbox.relay import OutboxRelay, measure_backlog
from mandi_messaging.outbox.unit_of_work import OutboxAddress, OutboxUnitOfWork
from mandi_messaging.outbox.writer import OutboxWriter

__all__ = [
    "OutboxAddress",
    "OutboxRelay",
    "OutboxUnitOfWork",
    "OutboxWriter",
    "measure_backlog",
]
