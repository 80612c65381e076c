"""The events partners takes from other services, each handled by a plain typed function.

The runtime runs the group inside `serve` or in `python -m mandi_partners consume`; a handler
gets the unit of work of the event's tenant (it commits with the inbox claim, never here).
"""

from __future__ import annotations

from mandi_contracts import EVENTS
from mandi_contracts.auth import UserCreated
from mandi_errors import InvalidInput
from mandi_messaging import Consumers, Envelope, PermanentFailure, events_topic
from mandi_partners.service_layer import staff
from mandi_partners.service_layer.unit_of_work import PartnersUnitOfWork

__all__ = ["consumers"]

consumers = Consumers(group="partners", topics=[events_topic("auth")], registry=EVENTS)


@consumers.on(UserCreated)
async def on_user_created(event: UserCreated, uow: PartnersUnitOfWork, envelope: Envelope) -> None:
    """Links a user auth created for a partner to the partner's staff."""
    try:
        await staff.link_staff_user(uow, event, at=envelope.time)
    except InvalidInput as refused:  # the same event is refused however often it is retried
        raise PermanentFailure(refused.detail) from refused
