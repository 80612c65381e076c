"""The journal: one consumer group over every topic of the platform, a poll at a time.

Every service's events topic, and the commands and replies of the saga's participants: each
event, whatever its type, is appended to its tenant's chain. The audit service's own topic is
the one left out (it would audit its own checkpoints); a test holds this list to every topic
the platform's services publish and consume.
"""

from __future__ import annotations

from collections.abc import Sequence

from mandi_audit.service_layer.journal import JournalWriter
from mandi_contracts import EVENTS
from mandi_messaging import (
    BatchConsumers,
    ReceivedEvent,
    Rejected,
    commands_topic,
    events_topic,
    replies_topic,
)

__all__ = ["AUDITED_TOPICS", "RECORDS_PER_POLL", "journal"]

_SERVICES = ("auth", "partners", "availability", "risk", "matching", "webhook")
_SAGA_PARTICIPANTS = ("availability", "risk")
AUDITED_TOPICS = (
    *(events_topic(service) for service in _SERVICES),
    *(commands_topic(service) for service in _SAGA_PARTICIPANTS),
    *(replies_topic(service) for service in _SAGA_PARTICIPANTS),
)
# A poll's records are appended in one transaction: big enough to amortise its round trips and
# its commit (5000 did best in bench-audit, against 500, 2000 and 10000).
RECORDS_PER_POLL = 5000

journal = BatchConsumers(
    group="audit", topics=AUDITED_TOPICS, registry=EVENTS, max_records=RECORDS_PER_POLL
)


@journal.handle
async def append_to_chains(
    events: Sequence[ReceivedEvent], writer: JournalWriter
) -> Sequence[Rejected]:
    """Appends every event of the poll to its tenant's hash chain, once."""
    return await writer.write(events)
