"""Partners as risk sees them: the read model built from partners' events, and what risk
officers record of them (credit limits, ratings, payments)."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from mandi_contracts import CreditLimitChanged
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import Conflict, InvalidInput, PreconditionFailed, PreconditionRequired
from mandi_risk.domain import access
from mandi_risk.domain.credit import CreditLimit
from mandi_risk.domain.profile import PartnerProfile, Rating, Standing
from mandi_risk.service_layer.dependencies import RiskDependencies
from mandi_risk.service_layer.unit_of_work import RiskUnitOfWork
from mandi_risk.service_layer.views import (
    CreditLimitView,
    PartnerRiskView,
    limit_view,
    partner_risk_view,
)
from mandi_rules import InsiderLinks, Money
from mandi_security import Principal

__all__ = [
    "COUNTERPARTIES_SHOWN",
    "partner_risk",
    "record_links",
    "record_payment",
    "record_standing",
    "set_limit",
    "set_rating",
]

# A partner's counterparties in its open trades are listed up to this many per side, those with
# the most trades first; the totals count every one.
COUNTERPARTIES_SHOWN = 10


async def record_standing(
    uow: RiskUnitOfWork, tenant_id: UUID, partner_id: UUID, standing: Standing, version: int
) -> bool:
    """Applies what a partners' event says of a partner's standing, unless a newer one said
    more; whether it did."""
    profile = await _for_event(uow, tenant_id, partner_id)
    if not profile.superseded_by(version):
        return False
    await uow.partners.put(replace(profile, standing=standing, version=version))
    return True


async def record_links(
    uow: RiskUnitOfWork, tenant_id: UUID, links: InsiderLinks, version: int
) -> bool:
    """Applies a partner's group and people's fingerprints from a partners' event (the whole
    current set), unless a newer event said more; whether it did."""
    profile = await _for_event(uow, tenant_id, links.partner_id)
    if not profile.superseded_by(version):
        return False
    updated = replace(
        profile,
        group_id=links.group_id,
        director_fingerprints=links.director_fingerprints,
        contact_fingerprints=links.contact_fingerprints,
        version=version,
    )
    await uow.partners.put(updated)
    await uow.tenants.remember(tenant_id)
    return True


async def _for_event(uow: RiskUnitOfWork, tenant_id: UUID, partner_id: UUID) -> PartnerProfile:
    # An event naming another tenant than its envelope is refused, never applied to either.
    if tenant_id != uow.tenant_id:
        raise InvalidInput("The event's tenant is not the tenant it was published for.")
    return await uow.partners.get_for_update(partner_id) or PartnerProfile(partner_id)


async def set_limit(
    deps: RiskDependencies,
    principal: Principal,
    partner_id: UUID,
    limit: Money,
    reason: str,
    *,
    if_match: int | None,
    key: IdempotencyKey | None = None,
) -> Answer[CreditLimitView]:
    """Sets a partner's credit limit; a change names the version it changes (If-Match)."""
    access.require(principal, access.WRITE)

    async def work(uow: RiskUnitOfWork) -> CreditLimitView:
        now, current = deps.clock.now(), await uow.limits.get(partner_id)
        if current is None:
            new = CreditLimit(partner_id, limit, reason, principal.principal_id, now)
        elif if_match is None:
            raise PreconditionRequired(
                f"The limit is at version {current.version}: name it in If-Match to change it."
            )
        elif if_match != current.version:
            raise PreconditionFailed(
                f"The limit is at version {current.version}: name it in If-Match to change it."
            )
        elif limit.currency != current.limit.currency:
            # Open exposure is counted in the limit's currency; none is converted.
            raise Conflict(f"The limit is in {current.limit.currency}, and keeps its currency.")
        else:
            new = current.changed(limit, reason=reason, by=principal.principal_id, at=now)
        await uow.limits.save(new)
        await uow.tenants.remember(uow.tenant_id)
        await uow.publish(
            CreditLimitChanged(
                tenant_id=uow.tenant_id,
                partner_id=partner_id,
                amount=limit.amount,
                currency=limit.currency,
                version=new.version,
                reason=reason,
            ),
            subject=str(partner_id),
        )
        return limit_view(new)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=CreditLimitView)


async def set_rating(
    deps: RiskDependencies, principal: Principal, partner_id: UUID, rating: Rating
) -> PartnerRiskView:
    """Records a risk officer's rating of a partner."""
    access.require(principal, access.WRITE)
    async with deps.uow(principal.tenant_id) as uow:
        profile = await uow.partners.get_for_update(partner_id) or PartnerProfile(partner_id)
        await uow.partners.put(replace(profile, rating=rating))
        view = await _view(uow, replace(profile, rating=rating))
        await uow.commit()
    return view


async def record_payment(
    deps: RiskDependencies,
    principal: Principal,
    partner_id: UUID,
    days_late: int,
    key: IdempotencyKey | None = None,
) -> Answer[PartnerRiskView]:
    """Records one payment a partner made, `days_late` days after it was due (0: on time). A
    request sent again with its key records the payment once."""
    access.require(principal, access.WRITE)

    async def work(uow: RiskUnitOfWork) -> PartnerRiskView:
        profile = await uow.partners.get_for_update(partner_id) or PartnerProfile(partner_id)
        paid = replace(profile, payments=profile.payments.with_payment(days_late))
        await uow.partners.put(paid)
        return await _view(uow, paid)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=PartnerRiskView)


async def partner_risk(
    deps: RiskDependencies, principal: Principal, partner_id: UUID
) -> PartnerRiskView:
    """What risk holds of a partner (one it never heard of is pending, with nothing set), with
    its open trades as buyer and as seller."""
    access.require(principal, access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        profile = await uow.partners.get(partner_id) or PartnerProfile(partner_id)
        return await _view(uow, profile)


async def _view(uow: RiskUnitOfWork, profile: PartnerProfile) -> PartnerRiskView:
    partner_id = profile.partner_id
    limit = await uow.limits.get(partner_id)
    exposure = await uow.exposure.get(partner_id)
    history = await uow.limits.history(partner_id)
    open_trades = await uow.trades.open_of(partner_id, counterparties=COUNTERPARTIES_SHOWN)
    return partner_risk_view(profile, limit, exposure, history, open_trades)
