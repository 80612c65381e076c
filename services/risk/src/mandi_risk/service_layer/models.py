"""The model registry: trained versions, which one decides, promotion and rollback.

Until a trained model is promoted, the rule-based scorecard decides. Promotions stack up: each
promotion puts a version on top, a rollback takes the top one off, and the version under it
decides again (the scorecard, when none is left). Every replica reads the active version from
the database on each assessment, so a promotion or rollback applies at once everywhere; the
artifact is parsed once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mandi_contracts import RiskModelPromoted, RiskModelRolledBack
from mandi_db import Answer, IdempotencyKey, idempotently
from mandi_errors import Conflict, NotFound
from mandi_risk.domain import access
from mandi_risk.domain.scorecard import SCORECARD, Scorecard
from mandi_risk.domain.scoring import ModelRef, Scorer
from mandi_risk.domain.trained_model import LogisticScorer, ModelArtifact
from mandi_risk.service_layer.dependencies import RiskDependencies
from mandi_risk.service_layer.unit_of_work import (
    Activation,
    ModelRegistry,
    RegisteredModel,
    RiskUnitOfWork,
)
from mandi_risk.service_layer.views import ActiveModelView, ModelView, model_view
from mandi_security import Principal

__all__ = [
    "TrainedModel",
    "active_model",
    "active_scorer",
    "models",
    "next_version",
    "promote",
    "register",
    "roll_back",
]

PROMOTED, ROLLED_BACK = "promoted", "rolled_back"
# Scorers by model and artifact digest: an artifact is parsed once per process. Versions are
# few and never change (a digest names its bytes), so nothing is ever evicted.
_SCORERS: dict[tuple[ModelRef, str | None], LogisticScorer] = {}


@dataclass(frozen=True)
class TrainedModel:
    """A model fresh from training: its name and version, artifact and training data's digest."""

    model: ModelRef
    artifact: ModelArtifact
    training_digest: str


async def active_model(registry: ModelRegistry) -> ModelRef | None:
    """The trained version that decides now; None while the scorecard does."""
    stack = _stack(await registry.activations())
    return stack[-1] if stack else None


async def active_scorer(registry: ModelRegistry) -> Scorer:
    """The scorer of the active version, or the scorecard."""
    model = await active_model(registry)
    if model is None:
        return Scorecard()
    digest = await registry.digest_of(model)
    cached = _SCORERS.get((model, digest))
    if cached is not None:
        return cached
    registered = await registry.get(model)
    if registered is None:  # the foreign key keeps this from happening
        raise NotFound(f"{model.name} v{model.version} is not registered.")
    scorer = LogisticScorer(model, ModelArtifact.from_json(registered.artifact).weights)
    _SCORERS[(model, registered.artifact_digest)] = scorer
    return scorer


async def next_version(deps: RiskDependencies, tenant_id: UUID, name: str) -> int:
    """The version a newly trained model of this name takes."""
    async with deps.uow(tenant_id) as uow:
        versions = [r.model.version for r in await uow.models.versions() if r.model.name == name]
    return max(versions, default=0) + 1


async def register(
    deps: RiskDependencies,
    tenant_id: UUID,
    trained: TrainedModel,
    *,
    by: str,
) -> ModelView:
    """Adds a trained version to the registry; it decides only once promoted."""
    registered = RegisteredModel(
        model=trained.model,
        artifact=trained.artifact.to_json(),
        artifact_digest=trained.artifact.digest(),
        training_digest=trained.training_digest,
        metrics=dict(trained.artifact.metrics),
        registered_by=by,
        registered_at=deps.clock.now(),
    )
    async with deps.uow(tenant_id) as uow:
        await uow.models.add(registered)
        await uow.tenants.remember(uow.tenant_id)
        await uow.commit()
    return model_view(registered, None)


async def models(deps: RiskDependencies, principal: Principal) -> list[ModelView]:
    """Every registered version, newest first, the active one marked."""
    access.require(principal, access.READ)
    async with deps.uow(principal.tenant_id) as uow:
        versions = await uow.models.versions()
        activations = await uow.models.activations()
    stack = _stack(activations)
    promotion = next(
        (a for a in activations if stack and a.model == stack[-1] and a.action == PROMOTED), None
    )
    return [model_view(version, promotion) for version in versions]


async def promote(deps: RiskDependencies, principal: Principal, model: ModelRef) -> ModelView:
    """Makes a registered version decide from now on."""
    access.require(principal, access.WRITE)
    async with deps.uow(principal.tenant_id) as uow:
        registered = await uow.models.get(model)
        if registered is None:
            raise NotFound(f"{model.name} v{model.version} is not registered.")
        previous = await active_model(uow.models)
        if previous == model:
            raise Conflict(f"{model.name} v{model.version} decides already.")
        activation = Activation(model, PROMOTED, principal.principal_id, deps.clock.now())
        await uow.models.activate(activation)
        await uow.publish(
            RiskModelPromoted(
                tenant_id=uow.tenant_id,
                model_name=model.name,
                model_version=model.version,
                previous_version=previous.version if previous else None,
            ),
            subject=model.name,
        )
        await uow.commit()
    return model_view(registered, activation)


async def roll_back(
    deps: RiskDependencies, principal: Principal, key: IdempotencyKey | None = None
) -> Answer[ActiveModelView]:
    """Takes the active version off: the one promoted before it decides again (or the
    scorecard); which model decides now. A request sent again with its key rolls back once."""
    access.require(principal, access.WRITE)

    async def work(uow: RiskUnitOfWork) -> ActiveModelView:
        stack = _stack(await uow.models.activations())
        if not stack:
            raise Conflict("No trained model decides: there is nothing to roll back.")
        rolled_back, now_active = stack[-1], (stack[:-1] or [SCORECARD])[-1]
        # The row names the version taken off; the one under it decides again.
        activation = Activation(rolled_back, ROLLED_BACK, principal.principal_id, deps.clock.now())
        await uow.models.activate(activation)
        await uow.publish(
            RiskModelRolledBack(
                tenant_id=uow.tenant_id,
                model_name=now_active.name,
                model_version=now_active.version,
                rolled_back_version=rolled_back.version,
            ),
            subject=rolled_back.name,
        )
        return ActiveModelView(name=now_active.name, version=now_active.version)

    return await idempotently(deps.uow(principal.tenant_id), key, work, answer_type=ActiveModelView)


def _stack(activations: list[Activation]) -> list[ModelRef]:
    """The promoted versions still standing, oldest first (activations come newest first)."""
    stack: list[ModelRef] = []
    for activation in reversed(activations):
        if activation.action == PROMOTED:
            stack.append(activation.model)
        elif stack:
            stack.pop()
    return stack
