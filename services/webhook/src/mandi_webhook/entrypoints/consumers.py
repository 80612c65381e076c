"""The public events the webhook service fans out to partners' endpoints.

Each handler is one line: the event becomes deliveries in the consumer's transaction (committed
with the inbox claim); the dispatcher sends them. An event consumed twice makes no second
delivery, since each is unique per endpoint and `webhook-id`.
"""

from __future__ import annotations

from mandi_contracts import (
    EVENTS,
    MatchProposed,
    PartnerApproved,
    PartnerReinstated,
    PartnerRejected,
    PartnerSuspended,
    TradeCancelled,
    TradeConfirmed,
    TradeSettled,
)
from mandi_messaging import Consumers, Envelope, events_topic
from mandi_messaging.registry import Event
from mandi_webhook.service_layer.dependencies import WebhookDependencies
from mandi_webhook.service_layer.fan_out import fan_out
from mandi_webhook.service_layer.unit_of_work import WebhookUnitOfWork

__all__ = ["consumers"]

consumers = Consumers(
    group="webhook", topics=[events_topic("partners"), events_topic("matching")], registry=EVENTS
)


async def _fan_out(
    event: Event, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    await fan_out(uow, event, envelope.id, envelope.time, deps.clock.now())


@consumers.on(PartnerApproved)
async def on_partner_approved(
    event: PartnerApproved, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`partner.status_changed` to the partner approved."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(PartnerRejected)
async def on_partner_rejected(
    event: PartnerRejected, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`partner.status_changed` to the partner rejected."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(PartnerSuspended)
async def on_partner_suspended(
    event: PartnerSuspended, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`partner.status_changed` to the partner suspended."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(PartnerReinstated)
async def on_partner_reinstated(
    event: PartnerReinstated,
    uow: WebhookUnitOfWork,
    envelope: Envelope,
    deps: WebhookDependencies,
) -> None:
    """`partner.status_changed` to the partner reinstated."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(MatchProposed)
async def on_match_proposed(
    event: MatchProposed, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`match.proposed` to the buyer and the seller, each its own side."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(TradeConfirmed)
async def on_trade_confirmed(
    event: TradeConfirmed, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`trade.confirmed` to both parties, each naming the other."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(TradeCancelled)
async def on_trade_cancelled(
    event: TradeCancelled, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`trade.cancelled` to both parties."""
    await _fan_out(event, uow, envelope, deps)


@consumers.on(TradeSettled)
async def on_trade_settled(
    event: TradeSettled, uow: WebhookUnitOfWork, envelope: Envelope, deps: WebhookDependencies
) -> None:
    """`trade.settled` to both parties."""
    await _fan_out(event, uow, envelope, deps)
