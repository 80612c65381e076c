"""The unit of work and repositories the use cases see; adapters implement them on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from mandi_db import IdempotencyRecords, TransactionPort
from mandi_messaging.registry import Event
from mandi_risk.domain.assessment import Assessment
from mandi_risk.domain.credit import CreditLimit, Exposure, Hold
from mandi_risk.domain.profile import PartnerProfile
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.domain.trades import Trade

__all__ = [
    "Activation",
    "AssessmentRepository",
    "BureauMemory",
    "DirectoryFactory",
    "DirectoryUnitOfWork",
    "ExposureRepository",
    "LimitRepository",
    "LookupFactory",
    "ModelRegistry",
    "OpenSide",
    "OpenTotal",
    "OpenTrades",
    "OpenWith",
    "PartnerRepository",
    "ProposalFacts",
    "RegisteredModel",
    "RiskLookups",
    "RiskUnitOfWork",
    "TenantDirectory",
    "TradeRepository",
    "UnitOfWorkFactory",
]


class PartnerRepository(Protocol):
    """The tenant's partners as risk sees them."""

    async def get(self, partner_id: UUID) -> PartnerProfile | None: ...
    async def get_for_update(self, partner_id: UUID) -> PartnerProfile | None: ...
    async def put(self, profile: PartnerProfile) -> None: ...


class LimitRepository(Protocol):
    """Credit limits, with every version kept."""

    async def get(self, partner_id: UUID) -> CreditLimit | None: ...
    async def save(self, limit: CreditLimit) -> None:
        """Stores a new version; Conflict if another version was stored since it was read."""

    async def history(self, partner_id: UUID) -> list[CreditLimit]: ...


class ExposureRepository(Protocol):
    """Partners' open exposure and the saga steps that changed it."""

    async def locked(self, partner_id: UUID, currency: str) -> Exposure:
        """The partner's exposure, locked until the transaction ends (made if it has none)."""

    async def get(self, partner_id: UUID) -> Exposure | None: ...
    async def save(self, exposure: Exposure) -> None: ...
    async def hold(self, saga_id: UUID, step: str) -> Hold | None: ...
    async def held(self, saga_id: UUID, buyer_id: UUID) -> list[Hold]:
        """The saga's open reservations of the buyer's credit, locked."""

    async def add_hold(self, hold: Hold, now: datetime) -> None: ...
    async def mark(self, hold: Hold) -> None: ...


class AssessmentRepository(Protocol):
    """Every assessment made, as it was made."""

    async def add(self, assessment: Assessment) -> None: ...
    async def get(self, assessment_id: UUID) -> Assessment | None: ...
    async def page(
        self, *, buyer_id: UUID | None, limit: int, after: tuple[datetime, UUID] | None
    ) -> list[Assessment]: ...
    async def recent(self, model: ModelRef, since: datetime, limit: int) -> list[Assessment]:
        """The model's assessments made since `since`, newest first."""


@dataclass(frozen=True)
class OpenTotal:
    """A partner's open trades on one side in one currency: how many, their value, and with
    how many counterparties."""

    currency: str
    trades: int
    value: Decimal
    counterparties: int


@dataclass(frozen=True)
class OpenWith:
    """A partner's open trades on one side with one counterparty, in one currency."""

    counterparty_id: UUID
    currency: str
    trades: int
    value: Decimal


@dataclass(frozen=True)
class OpenSide:
    """A partner's open trades as buyer, or as seller: totals per currency, and the
    counterparties with the most of them."""

    totals: list[OpenTotal]
    counterparties: list[OpenWith]


@dataclass(frozen=True)
class OpenTrades:
    """A partner's open trades (confirmed, neither cancelled nor settled), on both sides."""

    as_buyer: OpenSide
    as_seller: OpenSide


class TradeRepository(Protocol):
    """Trades as matching's events told them."""

    async def add(self, trade: Trade) -> bool:
        """Stores a trade not heard of before; False, storing nothing, if it is known."""

    async def get(self, trade_id: UUID) -> Trade | None: ...
    async def get_for_update(self, trade_id: UUID) -> Trade | None: ...
    async def save(self, trade: Trade) -> None: ...
    async def open_of(self, partner_id: UUID, *, counterparties: int) -> OpenTrades:
        """The partner's open trades as buyer and as seller, in one round trip: totals per
        currency, and per side the `counterparties` counterparties with the most of them."""


class BureauMemory(Protocol):
    """The last bureau score read live for each partner."""

    async def remember(self, partner_id: UUID, score: int, as_of: datetime) -> None: ...


@dataclass(frozen=True)
class RegisteredModel:
    """A trained model's version in the registry."""

    model: ModelRef
    artifact: bytes  # its coefficients as JSON
    artifact_digest: str
    training_digest: str
    metrics: dict[str, float]
    registered_by: str
    registered_at: datetime


@dataclass(frozen=True)
class Activation:
    """Who made a model version decide, and when."""

    model: ModelRef
    action: str  # promoted, rolled_back
    activated_by: str
    activated_at: datetime


class ModelRegistry(Protocol):
    """The tenant's trained models and which of them decides."""

    async def add(self, registered: RegisteredModel) -> None: ...
    async def get(self, model: ModelRef) -> RegisteredModel | None: ...
    async def versions(self) -> list[RegisteredModel]: ...
    async def activations(self) -> list[Activation]:
        """Newest first; the first is the active model."""

    async def digest_of(self, model: ModelRef) -> str | None:
        """The digest of a version's artifact (it names the artifact: a cache key)."""

    async def activate(self, activation: Activation) -> None: ...


class TenantDirectory(Protocol):
    """The tenants the service holds data of."""

    async def remember(self, tenant_id: UUID) -> None: ...
    async def all(self) -> list[UUID]: ...


class RiskUnitOfWork(TransactionPort, Protocol):
    """One transaction in one tenant's context."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def partners(self) -> PartnerRepository: ...

    @property
    def limits(self) -> LimitRepository: ...

    @property
    def exposure(self) -> ExposureRepository: ...

    @property
    def assessments(self) -> AssessmentRepository: ...

    @property
    def trades(self) -> TradeRepository: ...

    @property
    def bureau_scores(self) -> BureauMemory: ...

    @property
    def models(self) -> ModelRegistry: ...

    @property
    def tenants(self) -> TenantDirectory: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    async def publish(self, event: Event, *, subject: str, topic: str | None = None) -> None:
        """Queues an event, as this unit's tenant's, in the outbox of this transaction."""


@dataclass(frozen=True)
class ProposalFacts:
    """What the database knows that bears on a proposal, read together."""

    buyer: PartnerProfile | None
    seller: PartnerProfile | None
    limit: CreditLimit | None
    exposure: Exposure | None
    with_seller: Decimal  # the buyer's open reservations with this seller
    bureau: tuple[int, datetime] | None  # the buyer's last live bureau score, and when


class RiskLookups(Protocol):
    """One read-only transaction in one tenant's context, on the primary, without a session."""

    @property
    def models(self) -> ModelRegistry: ...

    async def facts(self, buyer_id: UUID, seller_id: UUID) -> ProposalFacts:
        """Everything known of a proposal's buyer and seller, in one round trip."""


class DirectoryUnitOfWork(TransactionPort, Protocol):
    """One transaction with no tenant: the directory of tenants, and nothing of theirs."""

    @property
    def tenants(self) -> TenantDirectory: ...


DirectoryFactory = Callable[[], AbstractAsyncContextManager[DirectoryUnitOfWork]]
UnitOfWorkFactory = Callable[[UUID], AbstractAsyncContextManager[RiskUnitOfWork]]
LookupFactory = Callable[[UUID], AbstractAsyncContextManager[RiskLookups]]
