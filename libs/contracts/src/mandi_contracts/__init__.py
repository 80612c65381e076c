"""Mandi's cross-service events, registered in one registry."""

from mandi_contracts.auth import (
    ApiKeyIssued,
    ApiKeyRevoked,
    ApiKeyRotated,
    TenantCreated,
    TenantReactivated,
    TenantSuspended,
    UserCreated,
)
from mandi_contracts.partners import (
    PartnerApproved,
    PartnerRegistered,
    PartnerReinstated,
    PartnerRejected,
    PartnerSubmitted,
    PartnerSuspended,
    PartnerUpdated,
    PartnerVerified,
)
from mandi_contracts.registry import EVENTS

__all__ = [
    "EVENTS",
    "ApiKeyIssued",
    "ApiKeyRevoked",
    "ApiKeyRotated",
    "PartnerApproved",
    "PartnerRegistered",
    "PartnerReinstated",
    "PartnerRejected",
    "PartnerSubmitted",
    "PartnerSuspended",
    "PartnerUpdated",
    "PartnerVerified",
    "TenantCreated",
    "TenantReactivated",
    "TenantSuspended",
    "UserCreated",
]
