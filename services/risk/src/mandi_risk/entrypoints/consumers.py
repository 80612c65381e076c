"""The events risk takes from other services (partners', and matching's trades), and the trade
saga's commands, each handled by a plain typed function.

The runtime runs the group inside `serve` or in `python -m mandi_risk consume`; a handler gets
the unit of work of the event's tenant (it commits with the inbox claim, never here).
"""

from __future__ import annotations

from collections.abc import Awaitable

from mandi_contracts import (
    EVENTS,
    CheckAndReserveExposure,
    PartnerApproved,
    PartnerRegistered,
    PartnerReinstated,
    PartnerRejected,
    PartnerSuspended,
    PartnerUpdated,
    ReleaseExposure,
    TradeCancelled,
    TradeConfirmed,
    TradeSettled,
)
from mandi_errors import InvalidInput
from mandi_messaging import Consumers, Envelope, PermanentFailure, commands_topic, events_topic
from mandi_risk.domain.profile import Standing
from mandi_risk.domain.trades import TradeStatus
from mandi_risk.service_layer import exposure, partners, trades
from mandi_risk.service_layer.unit_of_work import RiskUnitOfWork
from mandi_rules import InsiderLinks

__all__ = ["consumers"]

# Partners' events build the read model of partners, matching's trade events that of trades;
# the trade saga's commands reserve and release the buyers' credit.
consumers = Consumers(
    group="risk",
    topics=[events_topic("partners"), events_topic("matching"), commands_topic("risk")],
    registry=EVENTS,
)

_Standing = PartnerApproved | PartnerReinstated | PartnerRejected | PartnerSuspended
_Linked = PartnerRegistered | PartnerUpdated


async def _refused_for_good(work: Awaitable[object]) -> None:
    try:
        await work
    except InvalidInput as refused:  # the same message is refused however often it is retried
        raise PermanentFailure(refused.detail) from refused


async def _standing(event: _Standing, uow: RiskUnitOfWork, standing: Standing) -> None:
    await _refused_for_good(
        partners.record_standing(uow, event.tenant_id, event.partner_id, standing, event.version)
    )


async def _links(event: _Linked, uow: RiskUnitOfWork) -> None:
    links = InsiderLinks(
        event.partner_id,
        event.group_id,
        frozenset(event.director_fingerprints),
        frozenset(event.contact_fingerprints),
    )
    await _refused_for_good(partners.record_links(uow, event.tenant_id, links, event.version))


@consumers.on(PartnerRegistered)
async def on_partner_registered(event: PartnerRegistered, uow: RiskUnitOfWork) -> None:
    """A new partner: its group and people, for the insider-trading rule."""
    await _links(event, uow)


@consumers.on(PartnerUpdated)
async def on_partner_updated(event: PartnerUpdated, uow: RiskUnitOfWork) -> None:
    """A partner's group or people changed."""
    await _links(event, uow)


@consumers.on(PartnerApproved)
async def on_partner_approved(event: PartnerApproved, uow: RiskUnitOfWork) -> None:
    """An approved partner may trade."""
    await _standing(event, uow, Standing.APPROVED)


@consumers.on(PartnerReinstated)
async def on_partner_reinstated(event: PartnerReinstated, uow: RiskUnitOfWork) -> None:
    """A reinstated partner may trade again."""
    await _standing(event, uow, Standing.APPROVED)


@consumers.on(PartnerSuspended)
async def on_partner_suspended(event: PartnerSuspended, uow: RiskUnitOfWork) -> None:
    """A suspended partner may not trade."""
    await _standing(event, uow, Standing.SUSPENDED)


@consumers.on(PartnerRejected)
async def on_partner_rejected(event: PartnerRejected, uow: RiskUnitOfWork) -> None:
    """A rejected application may not trade."""
    await _standing(event, uow, Standing.REJECTED)


@consumers.on(TradeConfirmed)
async def on_trade_confirmed(
    event: TradeConfirmed, uow: RiskUnitOfWork, envelope: Envelope
) -> None:
    """A trade stands: open for its buyer and its seller until cancelled or settled."""
    await _refused_for_good(trades.record_confirmed(uow, event, at=envelope.time))


@consumers.on(TradeCancelled)
async def on_trade_cancelled(
    event: TradeCancelled, uow: RiskUnitOfWork, envelope: Envelope
) -> None:
    """A cancelled trade is open no more."""
    await _refused_for_good(
        trades.record_ended(uow, event, TradeStatus.CANCELLED, at=envelope.time)
    )


@consumers.on(TradeSettled)
async def on_trade_settled(event: TradeSettled, uow: RiskUnitOfWork, envelope: Envelope) -> None:
    """A settled trade is open no more."""
    await _refused_for_good(trades.record_ended(uow, event, TradeStatus.SETTLED, at=envelope.time))


@consumers.on(CheckAndReserveExposure)
async def on_check_and_reserve_exposure(
    command: CheckAndReserveExposure, uow: RiskUnitOfWork, envelope: Envelope
) -> None:
    """Reserves a trade's value against the buyer's limit for its saga, and answers it."""
    await _refused_for_good(exposure.reserve_exposure(uow, command, now=envelope.time))


@consumers.on(ReleaseExposure)
async def on_release_exposure(
    command: ReleaseExposure, uow: RiskUnitOfWork, envelope: Envelope
) -> None:
    """Gives back what a trade's saga reserved of the buyer's credit, and answers it."""
    await _refused_for_good(exposure.release_exposure(uow, command, now=envelope.time))
