"""Risk's repositories on PostgreSQL, in the unit of work's transaction (row-level security
confines each to its tenant). The saga's statements are prepared: they run for every command."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, insert, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from mandi_db import PreparedQuery, SqlRepository, StatementSource
from mandi_errors import Conflict
from mandi_risk.adapters.tables import (
    assessments,
    bureau_scores,
    credit_limit_history,
    credit_limits,
    exposure_holds,
    exposures,
    model_activations,
    partners,
    risk_models,
)
from mandi_risk.domain.assessment import (
    Assessment,
    BureauReading,
    Decision,
    Proposal,
    Verdict,
)
from mandi_risk.domain.credit import CreditLimit, Exposure, Hold, HoldStatus
from mandi_risk.domain.features import FEATURES, Features
from mandi_risk.domain.profile import PartnerProfile, PaymentRecord, Rating, Standing
from mandi_risk.domain.scoring import ModelRef, Scored
from mandi_risk.service_layer.unit_of_work import Activation, ProposalFacts, RegisteredModel
from mandi_rules import Money

__all__ = [
    "SqlAssessments",
    "SqlBureauMemory",
    "SqlExposure",
    "SqlLimits",
    "SqlModelRegistry",
    "SqlPartners",
    "SqlProposalFacts",
]


def _insert_all(table: Any) -> Any:
    return insert(table).values({column.name: bindparam(column.name) for column in table.c})


_PARTNER = select(partners).where(partners.c.partner_id == bindparam("partner_id"))
_PARTNER_BY_ID = PreparedQuery(_PARTNER)
_PARTNER_FOR_UPDATE = PreparedQuery(_PARTNER.with_for_update())
_NEW_PARTNER = pg_insert(partners).values({c.name: bindparam(c.name) for c in partners.c})
_PUT_PARTNER = PreparedQuery(
    _NEW_PARTNER.on_conflict_do_update(
        index_elements=[partners.c.partner_id],
        set_={c.name: _NEW_PARTNER.excluded[c.name] for c in partners.c if c.name != "partner_id"},
    )
)
_LIMIT = PreparedQuery(
    select(credit_limits).where(credit_limits.c.partner_id == bindparam("partner_id"))
)
_LIMIT_HISTORY = PreparedQuery(_insert_all(credit_limit_history))
_ENSURE_EXPOSURE = PreparedQuery(
    pg_insert(exposures)
    .values(
        tenant_id=bindparam("tenant_id"),
        partner_id=bindparam("partner_id"),
        currency=bindparam("currency"),
        open=0,
    )
    .on_conflict_do_nothing()
)
_EXPOSURE = select(exposures).where(exposures.c.partner_id == bindparam("partner_id"))
_EXPOSURE_BY_ID = PreparedQuery(_EXPOSURE)
_EXPOSURE_FOR_UPDATE = PreparedQuery(_EXPOSURE.with_for_update())
_SAVE_EXPOSURE = PreparedQuery(
    update(exposures)
    .where(exposures.c.partner_id == bindparam("partner_id"))
    .values(open=bindparam("new_open"))
)
_HOLD = PreparedQuery(
    select(exposure_holds).where(
        exposure_holds.c.saga_id == bindparam("saga_id"),
        exposure_holds.c.step == bindparam("step"),
    )
)
_HELD = PreparedQuery(
    select(exposure_holds)
    .where(
        exposure_holds.c.saga_id == bindparam("saga_id"),
        exposure_holds.c.buyer_id == bindparam("buyer_id"),
        exposure_holds.c.status == HoldStatus.RESERVED.value,
    )
    .order_by(exposure_holds.c.created_at)
    .with_for_update()
)
_ADD_HOLD = PreparedQuery(_insert_all(exposure_holds))
_MARK_HOLD = PreparedQuery(
    update(exposure_holds)
    .where(
        exposure_holds.c.saga_id == bindparam("saga_id"),
        exposure_holds.c.step == bindparam("step"),
    )
    .values(status=bindparam("new_status"))
)
_ADD_ASSESSMENT = PreparedQuery(_insert_all(assessments))
_ASSESSMENT = PreparedQuery(select(assessments).where(assessments.c.id == bindparam("id")))
_ACTIVATIONS = PreparedQuery(select(model_activations).order_by(model_activations.c.id.desc()))
_MODEL = PreparedQuery(
    select(risk_models).where(
        risk_models.c.name == bindparam("name"), risk_models.c.version == bindparam("version")
    )
)
_DIGEST = PreparedQuery(
    select(risk_models.c.artifact_digest).where(
        risk_models.c.name == bindparam("name"), risk_models.c.version == bindparam("version")
    )
)
_NEW_BUREAU = pg_insert(bureau_scores).values({c.name: bindparam(c.name) for c in bureau_scores.c})
_REMEMBER_BUREAU = PreparedQuery(
    _NEW_BUREAU.on_conflict_do_update(
        index_elements=[bureau_scores.c.partner_id],
        set_={"score": _NEW_BUREAU.excluded.score, "as_of": _NEW_BUREAU.excluded.as_of},
        where=bureau_scores.c.as_of < _NEW_BUREAU.excluded.as_of,
    )
)


def _facts_query() -> PreparedQuery:
    """A proposal's buyer and seller, the buyer's limit, exposure, reservations with the
    seller and last bureau score, as one row (each part NULL when there is none)."""
    buyer, seller = partners.alias("buyer"), partners.alias("seller")
    with_seller = (
        select(func.coalesce(func.sum(exposure_holds.c.amount), 0))
        .where(
            exposure_holds.c.buyer_id == bindparam("buyer_id"),
            exposure_holds.c.seller_id == bindparam("seller_id"),
            exposure_holds.c.status == HoldStatus.RESERVED.value,
        )
        .scalar_subquery()
    )
    one = select(literal(1).label("one")).subquery("one")
    query = (
        select(
            *(column.label(f"buyer_{column.name}") for column in buyer.c),
            *(column.label(f"seller_{column.name}") for column in seller.c),
            *(column.label(f"limit_{column.name}") for column in credit_limits.c),
            exposures.c.open.label("exposure_open"),
            exposures.c.currency.label("exposure_currency"),
            with_seller.label("with_seller"),
            bureau_scores.c.score.label("bureau_score"),
            bureau_scores.c.as_of.label("bureau_as_of"),
        )
        .select_from(one)
        .outerjoin(buyer, buyer.c.partner_id == bindparam("buyer_id"))
        .outerjoin(seller, seller.c.partner_id == bindparam("seller_id"))
        .outerjoin(credit_limits, credit_limits.c.partner_id == bindparam("buyer_id"))
        .outerjoin(exposures, exposures.c.partner_id == bindparam("buyer_id"))
        .outerjoin(bureau_scores, bureau_scores.c.partner_id == bindparam("buyer_id"))
    )
    return PreparedQuery(query)


_FACTS = _facts_query()


class SqlProposalFacts(SqlRepository):
    """What is known of proposals' buyers and sellers."""

    async def of(self, buyer_id: UUID, seller_id: UUID) -> ProposalFacts:
        """Everything known of a proposal's buyer and seller, in one round trip."""
        [row] = await self._fetch(_FACTS, {"buyer_id": buyer_id, "seller_id": seller_id})
        return ProposalFacts(
            buyer=_profile(_part(row, "buyer_")) if row.buyer_partner_id else None,
            seller=_profile(_part(row, "seller_")) if row.seller_partner_id else None,
            limit=_limit(_part(row, "limit_")) if row.limit_partner_id else None,
            exposure=(
                Exposure(buyer_id, row.exposure_currency, row.exposure_open)
                if row.exposure_open is not None
                else None
            ),
            with_seller=Decimal(row.with_seller),
            bureau=(row.bureau_score, row.bureau_as_of) if row.bureau_score is not None else None,
        )


def _part(row: Any, prefix: str) -> SimpleNamespace:
    """The columns of one table in a joined row, by their own names."""
    return SimpleNamespace(
        **{key.removeprefix(prefix): value for key, value in row.items() if key.startswith(prefix)}
    )


class SqlPartners(SqlRepository):
    """The tenant's partners as risk sees them."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def get(self, partner_id: UUID) -> PartnerProfile | None:
        """The partner, if risk heard of it."""
        rows = await self._fetch(_PARTNER_BY_ID, {"partner_id": partner_id})
        return _profile(rows[0]) if rows else None

    async def get_for_update(self, partner_id: UUID) -> PartnerProfile | None:
        """The partner, locked until the transaction ends."""
        rows = await self._fetch(_PARTNER_FOR_UPDATE, {"partner_id": partner_id})
        return _profile(rows[0]) if rows else None

    async def put(self, profile: PartnerProfile) -> None:
        """Stores the partner as it is now."""
        values = {
            "tenant_id": self._tenant_id,
            "partner_id": profile.partner_id,
            "standing": profile.standing.value,
            "group_id": profile.group_id,
            "director_fingerprints": sorted(profile.director_fingerprints),
            "contact_fingerprints": sorted(profile.contact_fingerprints),
            "version": profile.version,
            "rating": profile.rating.value if profile.rating else None,
            "payments_on_time": profile.payments.on_time,
            "payments_late": profile.payments.late,
            "days_late": profile.payments.days_late,
        }
        await self._fetch(_PUT_PARTNER, values)


def _profile(row: Any) -> PartnerProfile:
    return PartnerProfile(
        partner_id=row.partner_id,
        standing=Standing(row.standing),
        group_id=row.group_id,
        director_fingerprints=frozenset(row.director_fingerprints),
        contact_fingerprints=frozenset(row.contact_fingerprints),
        version=row.version,
        rating=Rating(row.rating) if row.rating else None,
        payments=PaymentRecord(row.payments_on_time, row.payments_late, row.days_late),
    )


class SqlLimits(SqlRepository):
    """Credit limits, each version kept in their history."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def get(self, partner_id: UUID) -> CreditLimit | None:
        """The partner's current limit, if one was set."""
        rows = await self._fetch(_LIMIT, {"partner_id": partner_id})
        return _limit(rows[0]) if rows else None

    async def save(self, limit: CreditLimit) -> None:
        """Stores the new version over the one it was made from; Conflict if that changed."""
        values = _limit_values(self._tenant_id, limit)
        query: Any = (
            pg_insert(credit_limits).values(values).on_conflict_do_nothing()
            if limit.version == 1
            else update(credit_limits)
            .where(
                credit_limits.c.partner_id == limit.partner_id,
                credit_limits.c.version == limit.version - 1,
            )
            .values(values)
        )
        if (await self._execute(query.returning(credit_limits.c.partner_id))).first() is None:
            raise Conflict("The credit limit changed meanwhile: read it again.")
        await self._fetch(_LIMIT_HISTORY, values)

    async def history(self, partner_id: UUID) -> list[CreditLimit]:
        """Every version of the partner's limit, newest first."""
        query = (
            select(credit_limit_history)
            .where(credit_limit_history.c.partner_id == partner_id)
            .order_by(credit_limit_history.c.version.desc())
        )
        return [_limit(row) for row in await self._execute(query)]


def _limit_values(tenant_id: UUID, limit: CreditLimit) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "partner_id": limit.partner_id,
        "amount": limit.limit.amount,
        "currency": limit.limit.currency,
        "reason": limit.reason,
        "set_by": limit.set_by,
        "set_at": limit.set_at,
        "version": limit.version,
    }


def _limit(row: Any) -> CreditLimit:
    return CreditLimit(
        partner_id=row.partner_id,
        limit=Money(row.currency, row.amount),
        reason=row.reason,
        set_by=row.set_by,
        set_at=row.set_at,
        version=row.version,
    )


class SqlExposure(SqlRepository):
    """Open exposure per partner, and the saga steps that changed it."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def locked(self, partner_id: UUID, currency: str) -> Exposure:
        """The partner's exposure, locked until the transaction ends (made if it has none)."""
        key = {"partner_id": partner_id}
        await self._fetch(
            _ENSURE_EXPOSURE, {**key, "tenant_id": self._tenant_id, "currency": currency}
        )
        [row] = await self._fetch(_EXPOSURE_FOR_UPDATE, key)
        return Exposure(row.partner_id, row.currency, row.open)

    async def get(self, partner_id: UUID) -> Exposure | None:
        """The partner's exposure, if it ever had any."""
        rows = await self._fetch(_EXPOSURE_BY_ID, {"partner_id": partner_id})
        return Exposure(rows[0].partner_id, rows[0].currency, rows[0].open) if rows else None

    async def save(self, exposure: Exposure) -> None:
        """Stores the exposure's open amount (its row is locked by `locked`)."""
        await self._fetch(
            _SAVE_EXPOSURE, {"partner_id": exposure.partner_id, "new_open": exposure.open}
        )

    async def hold(self, saga_id: UUID, step: str) -> Hold | None:
        """The step, if it was applied before."""
        rows = await self._fetch(_HOLD, {"saga_id": saga_id, "step": step})
        return _hold(rows[0]) if rows else None

    async def held(self, saga_id: UUID, buyer_id: UUID) -> list[Hold]:
        """The saga's open reservations of the buyer's credit, locked."""
        rows = await self._fetch(_HELD, {"saga_id": saga_id, "buyer_id": buyer_id})
        return [_hold(row) for row in rows]

    async def add_hold(self, hold: Hold, now: datetime) -> None:
        """Records an applied step."""
        values = {
            "tenant_id": self._tenant_id,
            "saga_id": hold.saga_id,
            "step": hold.step,
            "buyer_id": hold.buyer_id,
            "seller_id": hold.seller_id,
            "status": hold.status.value,
            "amount": hold.amount,
            "currency": hold.currency,
            "headroom": hold.headroom,
            "reason": hold.reason,
            "created_at": now,
        }
        await self._fetch(_ADD_HOLD, values)

    async def mark(self, hold: Hold) -> None:
        """Stores a step's new status."""
        keys = {"saga_id": hold.saga_id, "step": hold.step}
        await self._fetch(_MARK_HOLD, {**keys, "new_status": hold.status.value})


def _hold(row: Any) -> Hold:
    return Hold(
        saga_id=row.saga_id,
        step=row.step,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        status=HoldStatus(row.status),
        amount=row.amount,
        currency=row.currency,
        headroom=row.headroom,
        reason=row.reason,
    )


class SqlAssessments(SqlRepository):
    """Every assessment, as it was made."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def add(self, assessment: Assessment) -> None:
        """Stores the assessment."""
        await self._fetch(_ADD_ASSESSMENT, _assessment_values(self._tenant_id, assessment))

    async def get(self, assessment_id: UUID) -> Assessment | None:
        """One assessment, if it exists."""
        rows = await self._fetch(_ASSESSMENT, {"id": assessment_id})
        return _assessment(rows[0]) if rows else None

    async def page(
        self, *, buyer_id: UUID | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Assessment]:
        """Assessments newest first, of one buyer if named, after a keyset cursor."""
        query = select(assessments).order_by(
            assessments.c.assessed_at.desc(), assessments.c.id.desc()
        )
        if buyer_id is not None:
            query = query.where(assessments.c.buyer_id == buyer_id)
        if after is not None:
            query = query.where(tuple_(assessments.c.assessed_at, assessments.c.id) < after)
        return [_assessment(row) for row in await self._execute(query.limit(limit))]

    async def recent(self, model: ModelRef, since: datetime, limit: int) -> list[Assessment]:
        """The model's assessments made since `since`, newest first."""
        query = (
            select(assessments)
            .where(
                assessments.c.model_name == model.name,
                assessments.c.model_version == model.version,
                assessments.c.assessed_at >= since,
            )
            .order_by(assessments.c.assessed_at.desc())
            .limit(limit)
        )
        return [_assessment(row) for row in await self._execute(query)]


def _assessment_values(tenant_id: UUID, assessment: Assessment) -> dict[str, Any]:
    proposal, scored, verdict, bureau = (
        assessment.proposal,
        assessment.scored,
        assessment.verdict,
        assessment.bureau,
    )
    return {
        "tenant_id": tenant_id,
        "id": assessment.id,
        "buyer_id": proposal.buyer_id,
        "seller_id": proposal.seller_id,
        "commodity": proposal.commodity,
        "value": proposal.value.amount,
        "currency": proposal.value.currency,
        "score": scored.score,
        "decision": verdict.decision.value,
        "conditions": verdict.conditions,
        "rationale": verdict.rationale,
        "model_name": scored.model.name,
        "model_version": scored.model.version,
        "features": assessment.features.as_dict(),
        "base": scored.base,
        "points": scored.points,
        "bureau": {
            "score": bureau.score,
            "as_of": bureau.as_of.isoformat() if bureau.as_of else None,
            "live": bureau.live,
            "why_not_live": bureau.why_not_live,
            "fresh": bureau.fresh,
        },
        "assessed_by": assessment.assessed_by,
        "assessed_at": assessment.assessed_at,
    }


def _assessment(row: Any) -> Assessment:
    bureau = row.bureau
    return Assessment(
        id=row.id,
        proposal=Proposal(
            row.buyer_id, row.seller_id, row.commodity, Money(row.currency, row.value)
        ),
        features=Features(**row.features),
        # JSONB keeps no key order: the breakdown is put back in the factors' order.
        scored=Scored(
            ModelRef(row.model_name, row.model_version),
            row.base,
            {name: row.points[name] for name in FEATURES},
        ),
        verdict=Verdict(Decision(row.decision), list(row.conditions), row.rationale),
        bureau=BureauReading(
            score=bureau["score"],
            as_of=datetime.fromisoformat(bureau["as_of"]) if bureau["as_of"] else None,
            live=bureau["live"],
            why_not_live=bureau["why_not_live"],
            fresh=bureau.get("fresh", False),
        ),
        assessed_by=row.assessed_by,
        assessed_at=row.assessed_at,
    )


class SqlBureauMemory(SqlRepository):
    """The last bureau score read live for each partner."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def remember(self, partner_id: UUID, score: int, as_of: datetime) -> None:
        """Keeps a live score, unless a newer one is kept already."""
        values = {"tenant_id": self._tenant_id, "partner_id": partner_id, "score": score}
        await self._fetch(_REMEMBER_BUREAU, {**values, "as_of": as_of})


class SqlModelRegistry(SqlRepository):
    """The tenant's trained models and their activations."""

    def __init__(self, source: StatementSource, tenant_id: UUID) -> None:
        super().__init__(source)
        self._tenant_id = tenant_id

    async def add(self, registered: RegisteredModel) -> None:
        """Registers a trained version; Conflict if that version exists."""
        values = {
            "tenant_id": self._tenant_id,
            "name": registered.model.name,
            "version": registered.model.version,
            "artifact": registered.artifact,
            "artifact_digest": registered.artifact_digest,
            "training_digest": registered.training_digest,
            "metrics": registered.metrics,
            "registered_by": registered.registered_by,
            "registered_at": registered.registered_at,
        }
        query = pg_insert(risk_models).values(values).on_conflict_do_nothing()
        if (await self._execute(query.returning(risk_models.c.version))).first() is None:
            raise Conflict(f"{registered.model.name} v{registered.model.version} is registered.")

    async def get(self, model: ModelRef) -> RegisteredModel | None:
        """One version, if registered."""
        rows = await self._fetch(_MODEL, {"name": model.name, "version": model.version})
        return _registered(rows[0]) if rows else None

    async def versions(self) -> list[RegisteredModel]:
        """Every registered version, newest first."""
        query = select(risk_models).order_by(
            risk_models.c.registered_at.desc(), risk_models.c.version.desc()
        )
        return [_registered(row) for row in await self._execute(query)]

    async def activations(self) -> list[Activation]:
        """Who made which version decide, newest first."""
        return [
            Activation(
                ModelRef(row.name, row.version), row.action, row.activated_by, row.activated_at
            )
            for row in await self._fetch(_ACTIVATIONS, {})
        ]

    async def digest_of(self, model: ModelRef) -> str | None:
        """The digest of a version's artifact, if registered."""
        rows = await self._fetch(_DIGEST, {"name": model.name, "version": model.version})
        return rows[0].artifact_digest if rows else None

    async def activate(self, activation: Activation) -> None:
        """Makes a version decide from now on."""
        values = {
            "tenant_id": self._tenant_id,
            "name": activation.model.name,
            "version": activation.model.version,
            "action": activation.action,
            "activated_by": activation.activated_by,
            "activated_at": activation.activated_at,
        }
        await self._execute(insert(model_activations).values(values))


def _registered(row: Any) -> RegisteredModel:
    return RegisteredModel(
        model=ModelRef(row.name, row.version),
        artifact=bytes(row.artifact),
        artifact_digest=row.artifact_digest,
        training_digest=row.training_digest,
        metrics=dict(row.metrics),
        registered_by=row.registered_by,
        registered_at=row.registered_at,
    )
